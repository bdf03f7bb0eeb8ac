// NetBox's failure type, in a module of its own: the CLI maps it to an exit code without loading the NetBox
// client (and its HTTP library) in every process.

/** NetBox could not be asked or answered badly; the message never contains the token. */
export class NetboxError extends Error {
  /** NetBox's HTTP status, when it answered one. */
  readonly status: number | undefined;
  constructor(message: string, status?: number) {
    super(message);
    this.name = 'NetboxError';
    this.status = status;
  }
}
