// The times of finished tasks, kept from the tracker's own polls so that counting fast minutes asks the proxy nothing.
import { describe, expect, it } from 'vitest';
import { TaskTimesSeen } from '../../../src/community/taskTimesSeen.js';
import type { MjTaskSource } from '../../../src/jobs/mjProvider.js';
import type { MjTask } from '../../../src/upstream/mjTypes.js';

const task = (id: string, over: Partial<MjTask> = {}): MjTask => ({ id, status: 'SUCCESS', startTime: 1_000, finishTime: 61_000, ...over });

describe('TaskTimesSeen', () => {
  it('notes finished tasks answered by batch and single fetches, passes everything through, and hands each out once', async () => {
    const asked: string[] = [];
    const source: MjTaskSource = {
      fetchTasks: async (ids) => (asked.push(...ids), [task('1'), task('2', { status: 'IN_PROGRESS', finishTime: null })]),
      fetchTask: async (id) => (asked.push(id), id === '3' ? task('3', { useTime: 5_000 }) : null),
    };
    const seen = new TaskTimesSeen();
    const watched = seen.watch(source);
    expect((await watched.fetchTasks(['1', '2'])).map((t) => t.id)).toEqual(['1', '2']);
    expect(await watched.fetchTask('3')).toMatchObject({ id: '3' });
    expect(await watched.fetchTask('4')).toBeNull();
    expect(asked).toEqual(['1', '2', '3', '4']);
    expect(watched.cancel).toBeUndefined(); // a source that cannot cancel still cannot
    expect(seen.take('1')).toEqual({ useTimeMs: undefined, startTime: 1_000, finishTime: 61_000 });
    expect(seen.take('1')).toBeUndefined();
    expect(seen.take('2')).toBeUndefined(); // still running when seen
    expect(seen.take('3')?.useTimeMs).toBe(5_000);
  });

  it('forgets the oldest beyond its bound', () => {
    const seen = new TaskTimesSeen(2);
    for (const id of ['a', 'b', 'c']) seen.note(task(id));
    expect(seen.size).toBe(2);
    expect(seen.take('a')).toBeUndefined();
    expect(seen.take('c')).toBeDefined();
  });
});
