// Delivery Tasks: the FHIR view of an exchange's progress (accepted → in-progress → completed | failed | cancelled).
import type { Task, TaskOutput } from '@medplum/fhirtypes';
import type { Queryable } from '../store/database.js';
import { readResource, updateResource } from '../store/resources.js';

export { TASK_CODE_SYSTEM } from '../consent/constants.js';
export const TASK_OUTPUT_SYSTEM = 'https://ketenpoort.nl/fhir/CodeSystem/task-output';

export function taskOutput(code: string, value: Partial<TaskOutput>): TaskOutput {
  return { type: { coding: [{ system: TASK_OUTPUT_SYSTEM, code }] }, ...value } as TaskOutput;
}

/** Sets a Task's status and replaces the outputs with the given codes; returns the stored Task. */
export async function updateTask(
  tx: Queryable,
  taskId: string,
  status: Task['status'],
  outputs: TaskOutput[] = [],
  statusReason?: string,
): Promise<Task | undefined> {
  const current = await readResource<Task>(tx, 'Task', taskId, { forUpdate: true });
  if (!current) return undefined;
  const replaced = new Set(outputs.map((o) => o.type.coding?.[0]?.code));
  const kept = (current.resource.output ?? []).filter((o) => !replaced.has(o.type.coding?.[0]?.code));
  return updateResource(tx, {
    ...current.resource,
    id: taskId,
    status,
    statusReason: statusReason ? { text: statusReason } : current.resource.statusReason,
    lastModified: new Date().toISOString(),
    output: [...kept, ...outputs],
  });
}
