/** Test support shared by every lbkit package: `import { FakeTime } from "@lbkit/core/testing"`. */
export { FakeTime, flush } from "./fake-time.js";
export { seeded } from "./random.js";
