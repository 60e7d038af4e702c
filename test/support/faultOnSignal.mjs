// Test-only preload for the bot process (never imported by the product): loaded with
//   NODE_OPTIONS="--import <this file>"  and  TEST_FAULT_ON_SIGUSR2=exception|rejection
// it lets a test raise, inside the real bot process, an uncaught exception or an unhandled promise rejection
// (a stand-in for a bug anywhere in the code) when it sends SIGUSR2. See test/e2e/process.test.ts.
const kind = process.env.TEST_FAULT_ON_SIGUSR2;
if (kind === 'exception' || kind === 'rejection') {
  process.on('SIGUSR2', () => {
    if (kind === 'rejection') void Promise.reject(new Error('test fault: a promise nobody awaited'));
    else
      setImmediate(() => {
        throw new Error('test fault: a bug nobody caught');
      });
  });
}
