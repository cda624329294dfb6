// A CommonJS module of the app (module NodeNext) imports dgen: TypeScript compiles it to
// require('dgen'), which Node 20.19+ and 22.12+ load (the package is ESM without top-level await).
import { createSystem } from 'dgen';
export const open = createSystem;
