// Benchmark handler for the Node host: the same answer as hello.py, run in-process by tandem.
export const handler = async () => ({ hello: 'world' });
