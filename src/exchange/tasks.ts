// Delivery Tasks: the FHIR view of an exchange's progress (accepted → in-progress → completed | failed | cancelled).
import type { Communication, Task, TaskOutput } from '@medplum/fhirtypes';
import type { Queryable } from '../store/database.js';
import { readResources, updateResources } from '../store/resources.js';
import type { Principal } from '../auth/access.js';

export { TASK_CODE_SYSTEM } from '../consent/constants.js';
export const TASK_OUTPUT_SYSTEM = 'https://ketenpoort.nl/fhir/CodeSystem/task-output';

export function taskOutput(code: string, value: Partial<TaskOutput>): TaskOutput {
  return { type: { coding: [{ system: TASK_OUTPUT_SYSTEM, code }] }, ...value } as TaskOutput;
}

/** The outputs of a delivery attempt: how many attempts so far, and the recipient's answer (or the error). */
export function attemptOutputs(attempts: number, response: string): TaskOutput[] {
  return [
    taskOutput('attempts', { valueInteger: attempts }),
    taskOutput('recipient-response', { valueString: response }),
  ];
}

/** A change of a Task's status, with the outputs it replaces (by code) and the reason for the status. */
export interface TaskChange {
  taskId: string;
  status: Task['status'];
  outputs?: TaskOutput[];
  statusReason?: string;
}

function changed(current: Task, change: TaskChange, at: Date): Task & { id: string } {
  const outputs = change.outputs ?? [];
  const replaced = new Set(outputs.map((o) => o.type.coding?.[0]?.code));
  const kept = (current.output ?? []).filter((o) => !replaced.has(o.type.coding?.[0]?.code));
  return {
    ...current,
    id: change.taskId,
    status: change.status,
    statusReason: change.statusReason ? { text: change.statusReason } : current.statusReason,
    lastModified: at.toISOString(),
    output: [...kept, ...outputs],
  };
}

/**
 * Changes Tasks (one change per Task), modified at `at` (the system time if absent: the delivery worker acts on the
 * system clock): one read that locks them and one write for all. Returns the stored Tasks by id; an unknown one is
 * left out.
 */
export async function updateTasks(
  tx: Queryable,
  changes: TaskChange[],
  at: Date = new Date(),
): Promise<Map<string, Task>> {
  const current = await readResources<Task>(
    tx,
    'Task',
    changes.map((c) => c.taskId),
    { forUpdate: true },
  );
  const next = changes.flatMap((c) => {
    const found = current.get(c.taskId);
    return found ? [{ resource: changed(found.resource, c, at) }] : [];
  });
  const stored = (await updateResources(tx, next, at)) as Task[];
  return new Map(stored.map((t) => [t.id!, t]));
}

/** The outputs a research organisation sees: how many attempts, and its own server's answer. */
const RESEARCH_OUTPUTS = new Set(['attempts', 'recipient-response']);

/** Search parameters that name a person or a delivered Bundle; research may not search by them. */
export const PERSON_SEARCH_PARAMS = ['patient', 'patient:identifier', 'identifier'];

/**
 * What every research view keeps: which resource and version this is (id, version and time, not the rest of its meta:
 * no labels or tags) and its status.
 */
function researchBase<T extends Task | Communication>(
  r: T,
): Pick<T, 'resourceType' | 'id' | 'meta' | 'status'> {
  return {
    resourceType: r.resourceType,
    id: r.id,
    meta: { versionId: r.meta?.versionId, lastUpdated: r.meta?.lastUpdated },
    status: r.status,
  };
}

/**
 * What a research organisation sees of a Task: the progress of a delivery, nothing that names a person or the
 * content (no `for`, identifier, input, focus, status reason or note), so that a Task never links a pseudonymised
 * Bundle to the person it is about.
 */
export function researchTaskView(task: Task): Task {
  return {
    ...researchBase(task),
    intent: task.intent,
    code: task.code,
    requester: task.requester?.reference ? { reference: task.requester.reference } : undefined,
    owner: task.owner?.reference ? { reference: task.owner.reference } : undefined,
    authoredOn: task.authoredOn,
    lastModified: task.lastModified,
    reasonCode: task.reasonCode,
    output: task.output?.filter((o) => RESEARCH_OUTPUTS.has(o.type.coding?.[0]?.code ?? '')),
  };
}

/** What a research organisation sees of a notice: that an exchange (a Task) was not delivered, and when. */
export function researchCommunicationView(c: Communication): Communication {
  return {
    ...researchBase(c),
    category: c.category,
    about: c.about?.filter((a) => a.reference?.startsWith('Task/')).map((a) => ({ reference: a.reference })),
    recipient: c.recipient?.map((r) => ({ reference: r.reference })),
    sent: c.sent,
  };
}

/** A Task or Communication as this principal may see it. */
export function visibleTo<T extends Task | Communication>(
  principal: Pick<Principal, 'role'>,
  resource: T,
): T {
  if (principal.role !== 'research') return resource;
  return (
    resource.resourceType === 'Task' ? researchTaskView(resource) : researchCommunicationView(resource)
  ) as T;
}
