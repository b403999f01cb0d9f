/** A configuration problem: the process refuses to start and prints this one line. */
export class ConfigError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'ConfigError'
  }
}
