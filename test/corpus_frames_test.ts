/**
 * The capture readers against tshark over every public capture in `../shared/pcaps/corpus/`: the frame
 * count and each frame's timestamp, length, captured length and interface must agree.
 */
import assert from "node:assert/strict";
import { CaptureFormatError } from "../src/capture/capture_error.ts";
import { openCapture } from "../src/capture/open_capture.ts";
import { formatTs } from "../src/capture/timestamp.ts";
import { hasProgram, sharedPcaps } from "./_run.ts";
import { filesBelow, normalTs, pool, tsharkFields } from "./_tshark.ts";

const pcaps = sharedPcaps();
const ignore = pcaps === undefined || !hasProgram("tshark");
if (ignore) console.log("corpus frame test skipped: ../shared/pcaps or tshark is missing");

/** Files where tshark and netwatch legitimately differ, with the reason. */
const KNOWN_DIFFERENCES: Record<string, string> = {};

async function ourFrames(path: string): Promise<{ rows: string[][]; error?: string }> {
  const rows: string[][] = [];
  let source;
  try {
    source = await openCapture(path);
  } catch (e) {
    return { rows, error: (e as Error).message };
  }
  try {
    await source.run((f) => {
      rows.push([
        normalTs(formatTs(f.tsSec, f.tsFrac, f.tsDigits)),
        String(f.len),
        String(f.caplen),
        String(f.iface),
      ]);
    });
  } catch (e) {
    if (!(e instanceof CaptureFormatError)) throw e;
    return { rows, error: e.message };
  }
  return { rows };
}

Deno.test({
  name: "corpus: frame count, ts, len, caplen and iface agree with tshark for every capture",
  ignore,
  async fn() {
    const files = filesBelow(`${pcaps}/corpus`);
    let frames = 0;
    const failures: string[] = [];
    await pool(files, 4, async (path) => {
      const name = path.slice(pcaps!.length + 1);
      const [theirs, ours] = await Promise.all([
        tsharkFields(path, ["frame.time_epoch", "frame.len", "frame.cap_len", "frame.interface_id"]),
        ourFrames(path),
      ]);
      const problems: string[] = [];
      if (theirs.length !== ours.rows.length) {
        problems.push(
          `tshark ${theirs.length} frames, netwatch ${ours.rows.length} (${ours.error ?? "no error"})`,
        );
      }
      for (let i = 0; i < Math.min(theirs.length, ours.rows.length) && problems.length < 3; i++) {
        const t = theirs[i];
        const expected = [normalTs(t[0]), t[1], t[2], t[3] === "" || t[3] === undefined ? "0" : t[3]];
        if (expected.join() !== ours.rows[i].join()) {
          problems.push(`frame ${i + 1}: tshark ${expected.join(" ")} netwatch ${ours.rows[i].join(" ")}`);
        }
      }
      frames += ours.rows.length;
      if (problems.length > 0 && KNOWN_DIFFERENCES[name] === undefined) {
        failures.push(`${name}: ${problems.join("; ")}`);
      }
    });
    console.log(`compared ${frames} frames in ${files.length} captures`);
    assert.deepEqual(failures, []);
    assert.ok(files.length > 1000 && frames > 10000, "the corpus looks incomplete");
  },
});

Deno.test({
  name: "robustness: every capture in robustness/ is read or refused cleanly",
  ignore: pcaps === undefined,
  async fn() {
    const files = filesBelow(`${pcaps}/robustness`);
    let read = 0, refused = 0;
    for (const path of files) {
      const r = await ourFrames(path);
      if (r.error !== undefined) {
        refused++;
        assert.match(r.error, /^Cannot read ".*": .+/, `${path}: ${r.error}`);
      } else {
        read++;
      }
    }
    console.log(`robustness: ${read} read whole, ${refused} refused or stopped with a message`);
    assert.equal(read + refused, files.length);
  },
});
