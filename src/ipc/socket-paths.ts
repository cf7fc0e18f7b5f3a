// Part: the names of the daemon's two API sockets, apart from the server (api.ts) so that the
// CLIs find them without loading the server, the schema and their imports at start-up.

import { join } from 'node:path';

export const READ_SOCKET_NAME = 'api.sock';
export const CONTROL_SOCKET_NAME = 'control.sock';

/** The two socket paths in a run directory. */
export function apiSocketPaths(runDir: string): { readonly read: string; readonly control: string } {
  return { read: join(runDir, READ_SOCKET_NAME), control: join(runDir, CONTROL_SOCKET_NAME) };
}
