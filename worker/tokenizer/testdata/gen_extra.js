// Regenerates <family>.extra.json: reference encodings of extra_texts.json by
// transformers.js (the implementation that made testdata/tokenizers/*/encodings.json).
//   cd "$(mktemp -d)" && npm install @lenml/tokenizers@3.7.2 && \
//   for f in spm-bpe-32k bytelevel-bpe-152k; do \
//     node /path/to/worker/tokenizer/testdata/gen_extra.js $f > /path/to/worker/tokenizer/testdata/$f.extra.json; done
// Run it from the directory holding node_modules.
const { TokenizerLoader } = require(require.resolve("@lenml/tokenizers", { paths: [process.cwd()] }));
const fs = require("fs");
const path = require("path");
const zlib = require("zlib");

const fam = process.argv[2];
const dir = path.join(__dirname, "..", "..", "..", "testdata", "tokenizers", fam);
const tok = TokenizerLoader.fromPreTrained({
  tokenizerJSON: JSON.parse(zlib.gunzipSync(fs.readFileSync(path.join(dir, "tokenizer.json.gz")))),
  tokenizerConfig: JSON.parse(fs.readFileSync(path.join(dir, "tokenizer_config.json"))),
});
const texts = JSON.parse(fs.readFileSync(path.join(__dirname, "extra_texts.json")));
const out = texts.map((text) => {
  const ids = tok.encode(text, { add_special_tokens: false });
  return { text, ids, ids_with_special: tok.encode(text), decoded: ids.length ? tok.decode(ids) : "" };
});
process.stdout.write(JSON.stringify(out, null, 1));
