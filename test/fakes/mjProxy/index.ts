// Public API of the fake Midjourney Proxy (see server.ts for the knobs).
export { FakeMjProxy, startFakeMjProxy } from './server.js';
export type { FakeMjProxyOptions, FakeTask, FakeTaskMeta, NotificationRecord, RecordedRequest } from './types.js';
export type { FailSpec } from './faults.js';
export { classifyCustomId, describeButtons, editButtons, gridButtons, shortenButtons, upscaleButtons, type PressKind } from './buttons.js';
