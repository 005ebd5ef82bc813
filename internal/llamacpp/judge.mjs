// judge.mjs drives llama.cpp (node-llama-cpp's prebuilt CPU build) for rbee's
// agreement tests and benchmarks. It prints one JSON object on stdout; the Go
// package internal/llamacpp is its only caller.
//
//   node judge.mjs greedy --nlc DIR --model F.gguf --prompt 1,2,3 --n 32 [--threads T]
//   node judge.mjs bench  --nlc DIR --model F.gguf --prompt-tokens P --gen-tokens N --threads T
//
// DIR is the installed node-llama-cpp package folder. Both modes run the CPU
// build only (no GPU layers), never building or downloading. greedy pins what
// could change results: an F32 KV cache (llama.cpp's default is F16), no flash
// attention, no penalties or biases; bench keeps llama.cpp's defaults.
import { pathToFileURL } from "node:url";
import { join } from "node:path";

function parseArgs(argv) {
  const [mode, ...rest] = argv;
  const opts = { mode };
  for (let i = 0; i < rest.length; i += 2) {
    if (!rest[i].startsWith("--") || i + 1 >= rest.length) throw new Error(`bad argument ${rest[i]}`);
    opts[rest[i].slice(2)] = rest[i + 1];
  }
  return opts;
}

function intOpt(opts, name, def) {
  const v = opts[name] ?? def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got ${v}`);
  return n;
}

// open loads the model. exact pins what could change results (F32 KV cache,
// no flash attention); without it llama.cpp runs as its users run it (F16
// KV cache, its default attention), the fair speed reference.
async function open(opts, ctxLen, batch, threads, exact) {
  if (!opts.nlc || !opts.model) throw new Error("--nlc and --model are required");
  const nlc = await import(pathToFileURL(join(opts.nlc, "dist", "index.js")).href);
  const llama = await nlc.getLlama({
    gpu: false, build: "never", skipDownload: true, usePrebuiltBinaries: true,
    progressLogs: false, logLevel: nlc.LlamaLogLevel.error, maxThreads: threads,
  });
  const model = await llama.loadModel({ modelPath: opts.model, gpuLayers: 0, useMmap: true });
  const pinned = exact ? { flashAttention: false, experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32" } : {};
  const context = await model.createContext({
    contextSize: ctxLen, batchSize: batch, sequences: 1, threads: { ideal: threads, min: threads }, ...pinned,
  });
  return { llama, model, context, sequence: context.getSequence() };
}

// greedy: per generated token, the chosen id and the top two logits.
// node-llama-cpp hands out probabilities, not logits, and building them for a
// whole vocabulary costs 20-200 ms a step; so the sampler keeps the top two
// (top-k 2, temperature 1, no top-p/min-p: the logits stay raw), whose
// softmax gives log p1 - log p2 = logit1 - logit2 exactly, and the script
// itself feeds back the more likely one: greedy decoding.
async function greedy(opts) {
  const prompt = String(opts.prompt ?? "").split(",").filter((s) => s !== "").map(Number);
  if (prompt.length === 0 || prompt.some((t) => !Number.isInteger(t) || t < 0)) throw new Error("--prompt must be comma-separated token ids");
  const n = intOpt(opts, "n", 32);
  const threads = intOpt(opts, "threads", 1);
  const { llama, model, context, sequence } = await open(opts, prompt.length + n + 1, Math.max(prompt.length, 1), threads, true);
  const steps = [];
  const gen = sequence.evaluateWithMetadata(prompt, { probabilities: true },
    { temperature: 1, topK: 2, topP: 1, minP: 0, seed: 1, yieldEogToken: true });
  let next = await gen.next();
  while (!next.done && steps.length < n) {
    const top = [...next.value.probabilities.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    const [t1, p1] = top[0];
    const second = top[1];
    const logp = (p) => (p > 0 ? Math.log(p) : null);
    steps.push({ token: t1, top1: logp(p1), top2: second ? logp(second[1]) : null, top2_token: second ? second[0] : null });
    if (steps.length >= n) break;
    next = await gen.next(t1);
  }
  await gen.return();
  // Each step's text is what it adds to the detokenized prompt + earlier steps.
  const all = prompt.concat(steps.map((s) => s.token));
  const promptText = model.detokenize(prompt);
  let prev = promptText;
  steps.forEach((s, i) => {
    const cur = model.detokenize(all.slice(0, prompt.length + i + 1));
    s.text = cur.startsWith(prev) ? cur.slice(prev.length) : cur;
    prev = cur;
  });
  await context.dispose(); await model.dispose(); await llama.dispose();
  return { prompt_text: promptText, steps };
}

// bench: prefill of P tokens (one batch), then N greedy decode steps, timed apart.
async function bench(opts) {
  const p = intOpt(opts, "prompt-tokens"), n = intOpt(opts, "gen-tokens"), threads = intOpt(opts, "threads", 1);
  if (p < 1 || n < 1 || threads < 1) throw new Error("--prompt-tokens, --gen-tokens and --threads must be >= 1");
  const { llama, model, context, sequence } = await open(opts, p + n + 1, p, threads, false);
  // The content does not matter for timing; ids from 3 up avoid the usual control tokens.
  const nv = model.fileInfo.metadata?.tokenizer?.ggml?.tokens?.length ?? 256;
  const prompt = Array.from({ length: p }, (_, i) => 3 + ((i * 7919) % Math.max(1, nv - 3)));
  const t0 = process.hrtime.bigint();
  const gen = sequence.evaluate(prompt, { temperature: 0, yieldEogToken: true });
  let count = 0, tFirst = 0n;
  for await (const _tok of gen) {
    count++;
    if (count === 1) tFirst = process.hrtime.bigint();
    if (count > n) break;
  }
  const tEnd = process.hrtime.bigint();
  const prefillMs = Number(tFirst - t0) / 1e6, decodeMs = Number(tEnd - tFirst) / 1e6;
  await context.dispose(); await model.dispose(); await llama.dispose();
  return { prompt_tokens: p, gen_tokens: n, threads, prefill_ms: prefillMs, decode_ms: decodeMs };
}

try {
  const opts = parseArgs(process.argv.slice(2));
  const run = { greedy, bench }[opts.mode];
  if (!run) throw new Error(`unknown mode ${opts.mode} (greedy or bench)`);
  process.stdout.write(JSON.stringify(await run(opts)) + "\n");
  process.exit(0);
} catch (err) {
  process.stderr.write(`error: ${err.message}\n`);
  process.exit(1);
}
