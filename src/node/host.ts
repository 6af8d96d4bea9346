// Placeholder until the Node host lands (issue 5): the router imports createNodeHost from here.
import type { Host } from '../runtime/types.ts';

export interface NodeHostOptions {
  taskRoot: string;
  /** The handler string without any `node:` prefix, e.g. `index.handler`. */
  handler: string;
}

export function createNodeHost(_options: NodeHostOptions): Host {
  throw new Error('tandem: Node handlers are not implemented yet');
}
