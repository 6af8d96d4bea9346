// Wire names and limits of the Lambda Runtime API, as the local emulator serves them. The names are the
// runtime client's own (src/runtime/wire.ts): the local tool may import the runtime, never the reverse.
export { API_PREFIX, HEADER, STREAMING_MODE, MAX_BUFFERED_PAYLOAD_BYTES } from '../runtime/wire.ts';

/** Lambda's streamed response limit: 200 MB. */
export const MAX_STREAMED_PAYLOAD_BYTES = 200 * 1024 * 1024;
