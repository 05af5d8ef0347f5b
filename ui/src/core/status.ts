// Connection status, as every transport reports it. Pure.

export type ConnectionStatus =
  | { state: "connecting" }
  | { state: "connected" }
  | { state: "reconnecting"; attempt: number; error?: string }
  | { state: "disconnected"; reason: string; refused?: boolean };

export function describeStatus(s: ConnectionStatus): string {
  switch (s.state) {
    case "connecting":
      return "Connecting…";
    case "connected":
      return "Connected";
    case "reconnecting":
      return s.attempt > 0 ? `Reconnecting (attempt ${s.attempt})…` : "Reconnecting…";
    case "disconnected":
      return s.reason !== "" ? `Disconnected: ${s.reason}` : "Disconnected";
  }
}

/** Whether a connect error says the hub wants a (different) access token. */
export function isAuthError(message: string): boolean {
  return /\b(token|auth\w*|unauthori[sz]ed|forbidden)\b/i.test(message);
}
