import { EventEmitter } from 'eventemitter3';
import { type ParseConfigOptions, type ParseConfigResult, parseConfig, parseConfigObjects } from './parse-config.js';
import type { ConfigIssue, IngotConfig } from './resources.js';

/** Events of a {@link ConfigStore}. */
export interface ConfigStoreEvents {
  /** A new configuration was accepted and is now in force. */
  applied: (config: IngotConfig, previous: IngotConfig | undefined) => void;
  /** A configuration was rejected; the last good one (if any) stays in force. */
  rejected: (issues: ConfigIssue[]) => void;
  /**
   * The configuration offered (applied or rejected) carries warnings: what MetalLB accepts but is probably a mistake,
   * such as an advertisement naming a pool that does not exist. Emitted before `applied` or `rejected`.
   */
  warned: (warnings: ConfigIssue[]) => void;
}

/**
 * Holds the configuration in force. A rejected configuration never replaces an accepted one: `stale` becomes true
 * (MetalLB's `metallb_k8s_client_config_stale_bool`) until a valid one arrives.
 */
export class ConfigStore extends EventEmitter<ConfigStoreEvents> {
  private currentConfig: IngotConfig | undefined;
  private staleFlag = false;

  /** The configuration in force, or undefined before the first valid one (`metallb_k8s_client_config_loaded_bool`). */
  get current(): IngotConfig | undefined {
    return this.currentConfig;
  }

  /** True when the latest configuration offered was rejected. */
  get stale(): boolean {
    return this.staleFlag;
  }

  /** Parses and, if valid, applies YAML text; returns the parse result. */
  applyText(text: string): ParseConfigResult {
    return this.applyResult(parseConfig(text));
  }

  /**
   * Validates decoded resources (e.g. from the Kubernetes API) with {@link parseConfigObjects} and applies them if valid.
   * @param objects - the resources
   * @param issues - problems the caller found first (e.g. a missing Secret); any makes the whole set invalid
   * @param options - e.g. the cluster's nodes, to resolve advertisement node selectors as MetalLB does
   */
  applyObjects(
    objects: readonly unknown[],
    issues: ConfigIssue[] = [],
    options: ParseConfigOptions = {},
  ): ParseConfigResult {
    return this.applyResult(parseConfigObjects(objects, [...issues], options));
  }

  private applyResult(result: ParseConfigResult): ParseConfigResult {
    if (result.warnings.length > 0) this.emit('warned', result.warnings);
    if (result.ok) this.apply(result.config);
    else {
      this.staleFlag = true;
      this.emit('rejected', result.issues);
    }
    return result;
  }

  /** Applies an already validated configuration. */
  apply(config: IngotConfig): void {
    const previous = this.currentConfig;
    this.currentConfig = config;
    this.staleFlag = false;
    this.emit('applied', config, previous);
  }
}
