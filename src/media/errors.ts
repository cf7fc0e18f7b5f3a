// Part: the named errors of the media layer, one class per condition (js-libp2p habit).
// Wire trouble after open() is never thrown: it becomes a MediumEvent.

/** A medium could not acquire its device, sockets or line. The message starts with the medium name. */
export class MediumOpenError extends Error {
  override readonly name = 'MediumOpenError';
  /** The ha.cf line of the medium, e.g. `bcast eth9`. */
  readonly medium: string;
  /** The cause in words, e.g. `no such interface`. */
  readonly reason: string;
  constructor(medium: string, reason: string, options?: { cause?: unknown }) {
    super(`${medium}: ${reason}`, options);
    this.medium = medium;
    this.reason = reason;
  }
}

/** A factory was given arguments no ha.cf line could produce (the config layer should have refused them). */
export class MediumConfigError extends Error {
  override readonly name = 'MediumConfigError';
  readonly medium: string;
  constructor(medium: string, reason: string) {
    super(`${medium}: ${reason}`);
    this.medium = medium;
  }
}

/** `send()` (or `open()`) on a medium that was closed. */
export class MediumClosedError extends Error {
  override readonly name = 'MediumClosedError';
  readonly medium: string;
  constructor(medium: string) {
    super(`${medium}: medium is closed`);
    this.medium = medium;
  }
}

/** `send()` before `open()` finished. */
export class MediumNotOpenError extends Error {
  override readonly name = 'MediumNotOpenError';
  readonly medium: string;
  constructor(medium: string) {
    super(`${medium}: medium is not open yet`);
    this.medium = medium;
  }
}

/** A frame handed to `send()` is not in the medium's frame format (a caller bug). */
export class FrameFormatError extends Error {
  override readonly name = 'FrameFormatError';
  readonly medium: string;
  constructor(medium: string, reason: string) {
    super(`${medium}: ${reason}`);
    this.medium = medium;
  }
}
