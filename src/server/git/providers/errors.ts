/**
 * A provider (GitHub, GitLab) refused or failed a request. `status` is the provider's HTTP status
 * (or 502/504 when it sent nothing usable); `message` is safe to show: it never contains the token.
 */
export class ProviderError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "ProviderError";
  }
}
