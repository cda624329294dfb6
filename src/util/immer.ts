/**
 * The one place dgen imports immer, so its plugins (patches, Map/Set) are enabled before any use.
 * @internal
 */
import { enableMapSet, enablePatches } from 'immer';

enablePatches();
enableMapSet();

export { applyPatches, produceWithPatches, type Draft, type Patch } from 'immer';
