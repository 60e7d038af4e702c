import type { MjTaskSource } from '../jobs/mjProvider.js';
import type { MjTask } from '../upstream/mjTypes.js';
import { taskTimesOf, type TaskTimes } from './fastBudgetEstimate.js';

/**
 * The timing of finished Midjourney tasks as the tracker's own polls saw them, so that a job's fast minutes are
 * estimated without asking the proxy again. The process that polls a job is the one that delivers it (several
 * processes: its lease holder), so the times are here when the job finishes. Bounded: the oldest are forgotten.
 */
export class TaskTimesSeen {
  private times = new Map<string, TaskTimes>();

  constructor(private max = 5000) {}

  /** The task source the tracker polls through, noting the times of every finished task it answers. */
  watch(source: MjTaskSource): MjTaskSource {
    return {
      fetchTasks: async (ids) => {
        const tasks = await source.fetchTasks(ids);
        for (const t of tasks) this.note(t);
        return tasks;
      },
      fetchTask: async (id) => {
        const task = await source.fetchTask(id);
        if (task) this.note(task);
        return task;
      },
      ...(source.cancel ? { cancel: (id: string) => source.cancel!(id) } : {}),
    };
  }

  note(task: MjTask): void {
    const times = taskTimesOf(task);
    if (times.finishTime === undefined && times.useTimeMs === undefined) return; // still running: nothing to keep
    const id = String(task.id);
    this.times.delete(id);
    this.times.set(id, times);
    if (this.times.size > this.max) this.times.delete(this.times.keys().next().value!);
  }

  /** The times seen for a task, forgotten once taken (a job is counted once). */
  take(taskId: string): TaskTimes | undefined {
    const t = this.times.get(taskId);
    this.times.delete(taskId);
    return t;
  }

  get size(): number {
    return this.times.size;
  }
}
