// Part: OCF meta-data: a typed description of an agent and its rendering as the XML that
// ocf-tester 4.12 validates against ra-api-1.dtd (`xmllint --valid`).

/**
 * Content types the shipped DTD accepts. OCF 1.1's `select` is deliberately absent: ocf-tester
 * 4.12 validates with ra-api-1.dtd, where `select` is four validity errors.
 */
export type ContentType = 'string' | 'integer' | 'boolean' | 'time';

/** Values an agent sees: the process environment or the one a caller passed in. */
export type Env = Readonly<Record<string, string | undefined>>;

/** One instance parameter (`OCF_RESKEY_<name>`). */
export interface ParameterSpec {
  readonly name: string;
  readonly type: ContentType;
  readonly shortdesc: string;
  readonly longdesc: string;
  readonly required?: boolean;
  readonly unique?: boolean;
  /**
   * The value used when `OCF_RESKEY_<name>` is unset (an empty value stays empty, as the shell's
   * `: ${VAR=default}` does). A function when the default depends on the environment
   * (Dummy's state file lives in `HA_RSCTMP` and is named after the instance).
   */
  readonly default?: string | ((env: Env) => string);
}

/** One advertised action. Only the DTD's action names and attributes may appear here. */
export interface ActionSpec {
  readonly name:
    | 'start'
    | 'stop'
    | 'monitor'
    | 'status'
    | 'meta-data'
    | 'validate-all'
    | 'migrate_to'
    | 'migrate_from'
    | 'reload'
    | 'notify'
    | 'promote'
    | 'demote';
  readonly timeout: string;
  readonly interval?: string;
  readonly depth?: string;
}

/** Everything `meta-data` prints. */
export interface AgentMetadata {
  readonly name: string;
  readonly version: string;
  readonly shortdesc: string;
  readonly longdesc: string;
  readonly parameters: readonly ParameterSpec[];
  readonly actions: readonly ActionSpec[];
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The default of a parameter as meta-data shows it and as the agent uses it. */
export function parameterDefault(p: ParameterSpec, env: Env): string | undefined {
  return typeof p.default === 'function' ? p.default(env) : p.default;
}

/**
 * Render meta-data. The shape (DOCTYPE, element order version, longdesc, shortdesc, parameters,
 * actions) is what ra-api-1.dtd requires; a missing DOCTYPE alone makes ocf-tester fail.
 */
export function renderMetadata(meta: AgentMetadata, env: Env): string {
  const out: string[] = [
    '<?xml version="1.0"?>',
    '<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">',
    `<resource-agent name="${xml(meta.name)}" version="${xml(meta.version)}">`,
    `<version>1.0</version>`,
    '',
    `<longdesc lang="en">\n${xml(meta.longdesc.trim())}\n</longdesc>`,
    `<shortdesc lang="en">${xml(meta.shortdesc)}</shortdesc>`,
    '',
    '<parameters>',
  ];
  for (const p of meta.parameters) {
    const attrs = [`name="${xml(p.name)}"`];
    if (p.unique !== undefined) attrs.push(`unique="${p.unique ? 1 : 0}"`);
    if (p.required !== undefined) attrs.push(`required="${p.required ? 1 : 0}"`);
    const def = parameterDefault(p, env);
    out.push(
      `<parameter ${attrs.join(' ')}>`,
      `<longdesc lang="en">\n${xml(p.longdesc.trim())}\n</longdesc>`,
      `<shortdesc lang="en">${xml(p.shortdesc)}</shortdesc>`,
      def === undefined
        ? `<content type="${p.type}" />`
        : `<content type="${p.type}" default="${xml(def)}" />`,
      '</parameter>',
      '',
    );
  }
  out.push('</parameters>', '', '<actions>');
  for (const a of meta.actions) {
    const attrs = [`name="${a.name}"`, `timeout="${xml(a.timeout)}"`];
    if (a.interval !== undefined) attrs.push(`interval="${xml(a.interval)}"`);
    if (a.depth !== undefined) attrs.push(`depth="${xml(a.depth)}"`);
    out.push(`<action ${attrs.join(' ')} />`);
  }
  out.push('</actions>', '</resource-agent>', '');
  return out.join('\n');
}
