/**
 * A place taken in a shared rate for one upstream request. It bounds what the carrier counts in a second only if
 * the request leaves right after it was granted: the transport asks `late()` at the moment it would write the
 * request (a connection being opened or a stalled event loop can come between), and when it is late sends
 * nothing and waits for a new place with `retake()`, the old one given back.
 */
export interface SendWindow {
  late(): boolean;
  retake(signal?: AbortSignal): Promise<SendWindow>;
}
