/** The demos' defaults, in a module of their own so `pyro --help` shows them without loading the demos. */
export const DEFAULT_DEMO_ENVIRONMENT = "debian:12";
/** Plain HTTP: the guest fetches it with bash alone, so the demo needs no curl in the image. */
export const DEFAULT_DEMO_URL = "http://example.com/";
export const DEFAULT_OLLAMA_MODEL = "llama3.2:3b";
export const DEFAULT_OLLAMA_TASK =
  "Which Linux kernel release and which Debian version does a fresh pyro VM run? Find out with vm_run, then answer in one sentence.";
/** Chat requests before the loop gives up without an answer. */
export const DEFAULT_MAX_TURNS = 6;
