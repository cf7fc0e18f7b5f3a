// Part: `tsbeat director ...`: the ldirectord-compatible LVS director (src/director/cli.ts).

export { main } from '../director/cli.js';
