// The one already-resolved promise a StreamWriter returns from `write` when the bytes were taken without
// backpressure. A caller that sees exactly this promise may go on at once (no await, no microtask);
// any other promise means: wait for it before writing more.
export const ACCEPTED: Promise<void> = Promise.resolve();
