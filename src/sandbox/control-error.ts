/** A control-API error: HTTP 400 `{"error": message, ...extra}` (control.ts). */
export class ControlError extends Error {
  constructor(
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}
