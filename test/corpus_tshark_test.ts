/**
 * netwatch against tshark over every public capture in `../shared/pcaps/corpus/` and every fixture:
 * 1. the readers: frame count and each frame's timestamp, length, captured length and interface agree;
 * 2. the decoder: every compared field agrees for at least 99.5% of the packets that have it (the same
 *    fields and rules as `../shared/tools/tshark-diff`).
 * One tshark run per file serves both, cached by file content (see `_tshark.ts`).
 */
import assert from "node:assert/strict";
import { CaptureFormatError } from "../src/capture/capture_error.ts";
import { openCapture } from "../src/capture/open_capture.ts";
import { PacketDecoder } from "../src/decode/packet_decoder.ts";
import { packetRecord } from "../src/decode/packet_record.ts";
import { compareFile, formatTally, newTally, norm, TSHARK_COLUMNS, TSHARK_OPTIONS } from "./_agreement.ts";
import { hasProgram, sharedPcaps } from "./_run.ts";
import { filesBelow, pool, tsharkFields } from "./_tshark.ts";

const pcaps = sharedPcaps();
const ignore = pcaps === undefined || !hasProgram("tshark");
if (ignore) console.log("corpus tshark tests skipped: ../shared/pcaps or tshark is missing");

/** Files whose timestamps tshark and netwatch legitimately show differently, with the reason. */
const KNOWN_TS_DIFFERENCES: Record<string, string> = {
  // tcpdump's tests of invalid timestamps: the fraction field holds a second or more. tshark multiplies it
  // into a 32-bit nanosecond field and prints the overflowed value (e.g. "1418145370.1000000000" or a
  // negative time); netwatch carries the excess into the seconds, which is the time the file encodes.
  "corpus/tcpdump/timestamp_invalid_micro.pcap": "fraction >= 1 s: tshark prints an overflowed nstime",
  "corpus/tcpdump/timestamp_invalid_nano.pcap": "fraction >= 1 s: tshark prints an overflowed nstime",
  "corpus/tcpdump/rx_serviceid_oobr.pcap": "fuzzed record header with a 3 841 916 976 us fraction, as above",
};

type Json = Record<string, unknown>;

async function ourRecords(path: string): Promise<{ records: Json[]; error?: string }> {
  const records: Json[] = [];
  const decoder = new PacketDecoder();
  let source;
  try {
    source = await openCapture(path);
  } catch (e) {
    return { records, error: (e as Error).message };
  }
  try {
    await source.run((f) => records.push(JSON.parse(JSON.stringify(packetRecord(decoder.decode(f))))));
  } catch (e) {
    if (!(e instanceof CaptureFormatError)) throw e;
    return { records, error: e.message };
  }
  return { records };
}

function captures(): { path: string; name: string }[] {
  const fixtures = new URL("../fixtures", import.meta.url).pathname;
  const list = filesBelow(`${pcaps}/corpus`).map((path) => ({ path, name: path.slice(pcaps!.length + 1) }));
  for (const path of filesBelow(fixtures).filter((p) => /\.pcap(ng)?(\.gz)?$/.test(p))) {
    list.push({ path, name: `fixtures/${path.slice(fixtures.length + 1)}` });
  }
  return list;
}

/** Each capture's records and tshark rows, computed once for both tests. */
let compared: Promise<{ name: string; records: Json[]; error?: string; rows: string[][] }[]> | undefined;
function compareAll() {
  return compared ??= pool(captures(), 4, async ({ path, name }) => {
    const [rows, ours] = await Promise.all([
      tsharkFields(path, TSHARK_COLUMNS, TSHARK_OPTIONS),
      ourRecords(path),
    ]);
    return { name, rows, ...ours };
  });
}

Deno.test({
  name: "corpus: frame count, ts, len, caplen and iface agree with tshark for every capture",
  ignore,
  async fn() {
    const results = await compareAll();
    const col = (f: string) => TSHARK_COLUMNS.indexOf(f);
    const failures: string[] = [];
    let frames = 0;
    for (const { name, records, rows, error } of results) {
      frames += records.length;
      const problems: string[] = [];
      if (rows.length !== records.length) {
        problems.push(`tshark ${rows.length} frames, netwatch ${records.length} (${error ?? "no error"})`);
      }
      for (let i = 0; i < Math.min(rows.length, records.length) && problems.length < 3; i++) {
        const r = rows[i], rec = records[i];
        const theirs = [
          norm("ts", r[col("frame.time_epoch")]),
          r[col("frame.len")],
          r[col("frame.cap_len")],
          norm("iface", r[col("frame.interface_id")]),
        ];
        const mine = [norm("ts", rec.ts), String(rec.len), String(rec.caplen), String(rec.iface)];
        if (KNOWN_TS_DIFFERENCES[name] !== undefined) theirs[0] = mine[0] = "(known)";
        if (theirs.join() !== mine.join()) {
          problems.push(`frame ${i + 1}: tshark ${theirs.join(" ")} netwatch ${mine.join(" ")}`);
        }
      }
      if (problems.length > 0) failures.push(`${name}: ${problems.join("; ")}`);
    }
    console.log(`compared ${frames} frames in ${results.length} captures`);
    assert.deepEqual(failures, []);
    assert.ok(results.length > 1000 && frames > 10000, "the corpus looks incomplete");
  },
});

Deno.test({
  name: "corpus: every decoded field agrees with tshark for at least 99.5% of packets",
  ignore,
  async fn() {
    const results = await compareAll();
    const tally = newTally();
    const shown: string[] = [];
    for (const { name, records, rows } of results) shown.push(...compareFile(name, records, rows, tally, 2));
    const { text, lowest, lowestField } = formatTally(tally);
    console.log(text);
    console.log(`lowest agreement: ${lowestField} ${lowest.toFixed(2)}%`);
    if (lowest < 99.5) console.log(shown.slice(0, 60).join("\n"));
    assert.ok(lowest >= 99.5, `${lowestField} agrees for only ${lowest.toFixed(2)}% of packets`);
  },
});

Deno.test({
  name: "robustness: every capture in robustness/ is read or refused cleanly",
  ignore: pcaps === undefined,
  async fn() {
    const files = filesBelow(`${pcaps}/robustness`);
    let read = 0, refused = 0;
    for (const path of files) {
      const r = await ourRecords(path);
      if (r.error !== undefined) {
        refused++;
        assert.match(r.error, /^Cannot read ".*": .+/, `${path}: ${r.error}`);
      } else {
        read++;
      }
      for (const rec of r.records) assert.ok(typeof rec.n === "number" && typeof rec.ts === "string");
    }
    console.log(`robustness: ${read} read whole, ${refused} refused or stopped with a message`);
    assert.equal(read + refused, files.length);
  },
});
