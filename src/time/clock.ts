// The one clock of a gateway process: every use case reads the moment it acts at from here, once per request, and
// passes it down. Production reads the system time; the sandbox can set it (POST /sandbox/clock), tests inject one.
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();
