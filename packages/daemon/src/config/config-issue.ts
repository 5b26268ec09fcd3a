/** One reason a configuration was rejected. */
export interface ConfigIssue {
  /** `Kind/name`, or `document N` when the document has no name. */
  resource: string;
  /** Path of the offending field, e.g. `spec.addresses[1]`. */
  field: string;
  /** Why the value was rejected. */
  reason: string;
  /**
   * 1-based line in the YAML text of the deepest node that exists on {@link ConfigIssue.field} (the document's first
   * line when none does). Set by {@link parseConfig}; absent for objects that came without a text (e.g. from the
   * Kubernetes API through `parseConfigObjects`).
   */
  line?: number;
  /** 1-based number of the `---`-separated YAML document the issue is in. Set with {@link ConfigIssue.line}. */
  document?: number;
}
