import type { Plugin } from "esbuild"

export type BarrelMaps = ReadonlyMap<string, ReadonlyMap<string, { readonly module: string; readonly namespace: boolean }>>
export declare const barrelMaps: (root: string) => BarrelMaps
export declare const rewriteBarrelImports: (source: string, maps: BarrelMaps, file: string) => string
export declare const deepEffectImports: (root: string) => Plugin
export declare const withoutFastCheck: Plugin
