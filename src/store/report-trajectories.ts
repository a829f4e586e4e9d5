// Storage of the trajectories the municipal report counts (src/reports/trajectory.ts builds them).
import type { Queryable } from './database.js';

/** One trajectory as the report keeps it: nothing that identifies the family. */
export interface ReportTrajectory {
  /** HMAC-SHA256 (the gateway's pseudonym key) over the recording organisation and its own trajectory identifier. */
  key: string;
  org: string;
  municipality: string;
  trajectoryType: string;
  coordinationLevel?: string;
  framework?: string;
  referralSource?: string;
  /** YYYY-MM-DD */
  started: string;
  ended?: string;
  closureReason?: string;
  lifeDomains: string[];
}

/** Records a trajectory, replacing the organisation's earlier record of it; says which it was. */
export async function recordTrajectory(tx: Queryable, t: ReportTrajectory): Promise<'created' | 'updated'> {
  return (await recordTrajectories(tx, [t]))[0]!;
}

/** Records trajectories in one statement (the sandbox's fixtures); for each, whether it was new. */
export async function recordTrajectories(
  tx: Queryable,
  list: ReportTrajectory[],
): Promise<('created' | 'updated')[]> {
  if (list.length === 0) return [];
  const rows = await tx.query<{ key: string; inserted: boolean }>(
    `INSERT INTO report_trajectories (key, org, municipality, trajectory_type, coordination_level, framework,
       referral_source, started, ended, closure_reason, life_domains)
     SELECT key, org, municipality, "trajectoryType", "coordinationLevel", framework, "referralSource", started, ended,
            "closureReason", ARRAY(SELECT json_array_elements_text("lifeDomains"))
     FROM json_to_recordset($1::json) AS t(key text, org text, municipality text, "trajectoryType" text,
       "coordinationLevel" text, framework text, "referralSource" text, started date, ended date, "closureReason" text,
       "lifeDomains" json)
     ON CONFLICT (key) DO UPDATE SET municipality = EXCLUDED.municipality, trajectory_type = EXCLUDED.trajectory_type,
       coordination_level = EXCLUDED.coordination_level, framework = EXCLUDED.framework,
       referral_source = EXCLUDED.referral_source, started = EXCLUDED.started, ended = EXCLUDED.ended,
       closure_reason = EXCLUDED.closure_reason, life_domains = EXCLUDED.life_domains, recorded = now()
     RETURNING key, (xmax = 0) AS inserted`,
    [JSON.stringify(list)],
  );
  const inserted = new Map(rows.map((r) => [r.key, r.inserted]));
  return list.map((t) => (inserted.get(t.key) ? 'created' : 'updated'));
}

/** Removes a trajectory recorded in error; whether there was one. */
export async function removeTrajectory(tx: Queryable, key: string): Promise<boolean> {
  return (await tx.query('DELETE FROM report_trajectories WHERE key = $1 RETURNING key', [key])).length > 0;
}

/** The trajectories of a municipality that were open at some time in the period. */
export async function trajectoriesIn(
  db: Queryable,
  municipality: string,
  period: { start: string; end: string },
): Promise<
  Pick<
    ReportTrajectory,
    'trajectoryType' | 'referralSource' | 'started' | 'ended' | 'closureReason' | 'lifeDomains'
  >[]
> {
  const rows = await db.query<{
    trajectory_type: string;
    referral_source: string | null;
    started: string;
    ended: string | null;
    closure_reason: string | null;
    life_domains: string[];
  }>(
    `SELECT trajectory_type, referral_source, to_char(started, 'YYYY-MM-DD') AS started,
            to_char(ended, 'YYYY-MM-DD') AS ended, closure_reason, life_domains
     FROM report_trajectories
     WHERE municipality = $1 AND started <= $3::date AND (ended IS NULL OR ended >= $2::date)`,
    [municipality, period.start, period.end],
  );
  return rows.map((r) => ({
    trajectoryType: r.trajectory_type,
    referralSource: r.referral_source ?? undefined,
    started: r.started,
    ended: r.ended ?? undefined,
    closureReason: r.closure_reason ?? undefined,
    lifeDomains: r.life_domains,
  }));
}
