// Part: turns ha.cf media lines into Medium instances (the only place that knows both).

import type { MediumConfig } from '../config/model.js';
import type { Clock } from '../lib/clock.js';
import {
  type Medium,
  type MediumEventSink,
  type SerialBaud,
  serialMedium,
  udpBcast,
  udpMcast,
  udpUcast,
} from '../media/index.js';
import { udpMcast6, udpUcast6 } from '../media/udp6.js';

export class UnsupportedMediumError extends Error {
  override readonly name = 'UnsupportedMediumError';
}

/** One Medium per media line; throws UnsupportedMediumError for what tsbeat cannot do yet. */
export function buildMedia(media: readonly MediumConfig[], clock: Clock, onEvent: MediumEventSink): Medium[] {
  const components = { clock, onEvent };
  const build = (m: MediumConfig): Medium => {
    switch (m.kind) {
      case 'bcast':
        return udpBcast({ dev: m.dev, port: m.port }, components);
      case 'mcast':
        return udpMcast(
          { dev: m.dev, group: m.group, port: m.port, ttl: m.ttl, loop: m.loop ? 1 : 0 },
          components,
        );
      case 'ucast':
        return udpUcast({ dev: m.dev, peer: m.peer, port: m.port }, components);
      case 'mcast6':
        return udpMcast6(
          { dev: m.dev, group: m.group, port: m.port, hops: m.hops, loop: m.loop ? 1 : 0 },
          components,
        );
      case 'ucast6':
        return udpUcast6({ dev: m.dev, peer: m.peer, port: m.port }, components);
      case 'serial':
        return serialMedium({ device: m.device, baud: m.baud as SerialBaud }, components);
    }
  };
  return media.map(build);
}

/** heartbeat's link name for a media line (the device, or the serial device path). */
export function linkName(m: MediumConfig): string {
  return m.kind === 'serial' ? m.device : m.dev;
}
