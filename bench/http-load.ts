// Load for the HTTP benchmark: autocannon against one route, and the exchange bookkeeping (which exchanges were
// acknowledged with a 202, how long the delivery backlog takes to drain, and whether the simulated GP received each
// acknowledged exchange exactly once).
import autocannon from 'autocannon';

export interface LoadSettings {
  connections: number;
  seconds: number;
}

export interface Measured {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  /** Answers outside 2xx and socket errors/timeouts: a row with any of these is not a clean measurement. */
  failed: number;
  statuses: string;
}

/** POSTs body to url for the configured time; onBody sees every answer (the exchange collects its identifiers). */
export async function drive(
  url: string,
  body: string,
  headers: Record<string, string>,
  settings: LoadSettings,
  onBody?: (status: number, body: string) => void,
): Promise<Measured> {
  const target = new URL(url);
  const result = await autocannon({
    url: target.origin,
    connections: settings.connections,
    duration: settings.seconds,
    requests: [
      {
        method: 'POST',
        path: target.pathname,
        headers: { 'content-type': 'application/fhir+json', ...headers },
        body,
        ...(onBody ? { onResponse: (status: number, text: string) => onBody(status, text) } : {}),
      },
    ],
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    failed: result.non2xx + result.errors + result.timeouts,
    statuses: Object.entries(result.statusCodeStats ?? {})
      .map(([code, s]) => `${code}×${s.count ?? 0}`)
      .join(' '),
  };
}

const DELIVERED_ID = /"identifier":\{"system":"urn:ietf:rfc:3986","value":"(urn:uuid:[0-9a-f-]+)"/;

/** The identifiers of the Bundles the gateway acknowledged (202) as accepted for delivery. */
export class Acknowledged {
  readonly ids = new Set<string>();
  unreadable = 0;
  readonly collect = (status: number, text: string): void => {
    if (status !== 202) return;
    const id = DELIVERED_ID.exec(text)?.[1];
    if (id) this.ids.add(id);
    else this.unreadable++;
  };
}

interface Received {
  total: number;
  entry?: { resource: { identifier?: { value?: string } } }[];
}

async function received(agencyUrl: string, countOnly: boolean): Promise<Received> {
  const res = await fetch(`${agencyUrl}/fhir/Bundle${countOnly ? '?_summary=count' : ''}`);
  return (await res.json()) as Received;
}

export async function receivedCount(agencyUrl: string): Promise<number> {
  return (await received(agencyUrl, true)).total;
}

/**
 * Milliseconds from now until the last Bundle of the backlog reached the agency: polled every 20 ms until it holds at
 * least `expected` and nothing more arrived for a second (exchanges accepted while the load generator cut their
 * requests off are part of the backlog too); undefined when `expected` is not reached within the limit.
 */
export async function drainMs(
  agencyUrl: string,
  expected: number,
  limitMs = 60_000,
): Promise<number | undefined> {
  const start = performance.now();
  let count = await receivedCount(agencyUrl);
  let lastArrival = start;
  while (performance.now() - start < limitMs) {
    await new Promise((r) => setTimeout(r, 20));
    const now = await receivedCount(agencyUrl);
    if (now !== count) lastArrival = performance.now();
    count = now;
    if (count >= expected && performance.now() - lastArrival >= 1000) return lastArrival - start;
  }
  return undefined;
}

export interface DeliveryCheck {
  acknowledged: number;
  received: number;
  lost: number;
  doubled: number;
  /** Delivered exchanges whose 202 the load generator did not read (requests cut off when the load stopped). */
  unacknowledged: number;
}

/** Compares what the GP received (after `before` Bundles that were there already) with what was acknowledged. */
export async function checkDeliveries(
  agencyUrl: string,
  before: number,
  acks: Acknowledged,
): Promise<DeliveryCheck> {
  const all = (await received(agencyUrl, false)).entry ?? [];
  const ids = all.slice(before).map((e) => e.resource.identifier?.value ?? '');
  const unique = new Set(ids);
  return {
    acknowledged: acks.ids.size,
    received: ids.length,
    lost: [...acks.ids].filter((id) => !unique.has(id)).length + acks.unreadable,
    doubled: ids.length - unique.size,
    unacknowledged: [...unique].filter((id) => !acks.ids.has(id)).length,
  };
}
