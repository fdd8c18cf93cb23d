#!/usr/bin/env python3
"""Records docs/console.md: runs `warden demo` in tmux, walks the views as an operator would, and
writes each screen as text. Usage: tools/record_console.py [path/to/warden]  (default: the release build)."""
import os, shutil, subprocess, sys, tempfile, time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
warden = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, ".build/release/warden")
socket = f"warden-record-{os.getpid()}"
home = tempfile.mkdtemp(prefix="wr-", dir="/tmp")
shutil.rmtree(home)


def tmux(*args):
    return subprocess.run(["tmux", "-L", socket, *args], check=True, capture_output=True, text=True).stdout


def keys(*k, wait=1.2):
    tmux("send-keys", "-t", "demo", *k)
    time.sleep(wait)


def capture():
    lines = tmux("capture-pane", "-p", "-t", "demo").split("\n")
    return "\n".join(l.rstrip() for l in lines).rstrip("\n")


sections = []


def shot(title, text, level="##"):
    sections.append(f"{level} {title}\n\n{text}\n\n```text\n{capture()}\n```\n")


tmux("new-session", "-d", "-s", "demo", "-x", "200", "-y", "50", f"TZ=UTC {warden} demo --home {home} --pace 0.6")
try:
    time.sleep(25)
    shot("Sessions (200x50)", "`warden demo` starts a hub, four MCP servers behind `warden wrap` and a scripted agent that also "
         "attacks. The console opens on Sessions, ordered by when each session started (`o` cycles: activity, risk, name), so "
         "rows do not move under the cursor as traffic flows. From 160 columns on, the selected row's detail sits beside the "
         "list and follows the cursor.")
    keys("Enter")
    shot("A session's timeline (200x50)", "`enter` opens the detail full screen. Every event with a JSON-RPC id is a call: `j`/`k` "
         "move the cursor over them and `enter` opens one.")
    keys("j", "j")
    keys("Enter")
    shot("A call (200x50)", "Everything the relay recorded for one call: what it carried, where it was going, the decision "
         "and its rule, the grant and who decided, latency, result size, findings. `esc` goes back to the timeline.")
    keys("Escape")
    keys("Escape")
    keys("2")
    shot("Grants (200x50)", "Pending requests first, with a countdown; USES counts the calls each grant let through; the "
         "pane shows the selected request whole.")
    keys("a")
    shot("Approving (200x50)", "The dialog shows who asked, the rule, the arguments, and what the chosen scope lets through "
         "(`←`/`→` change it).")
    keys("Escape")
    keys("3")
    shot("Tools (200x50)", "Flagged tools first. `a` trusts a definition (typing `trust` when Warden judged it malicious), `Q` "
         "quarantines, `s` suppresses one rule, `B` resets the behaviour baseline, `X` blocks the server.")
    keys("Enter")
    shot("A tool's evidence (200x50)", "The definition with the evidence highlighted, each finding explained, hidden text "
         "decoded, and the word diff of a definition that changed.")
    keys("Escape")
    keys("4")
    shot("Alerts (200x50)", "Open alerts by severity. `m` marks alerts (`M` all shown) for `x` acknowledge and `f` false "
         "positive in bulk; `C` shows closed ones.")
    keys("Enter")
    shot("An alert (200x50)", "Its facts, the MAESTRO layer, who it is assigned to, and its incident.")
    keys("Escape")
    keys("5")
    shot("Playbooks (200x50)", "Incidents and their playbook runs (CACAO 2.0), with the current step.")
    keys("6")
    shot("Audit (200x50)", "The hash-chained audit log, newest first, verified as records arrive.")
    keys("Enter")
    shot("An audit record (200x50)", "Every record whole: a denial's or revocation's reason, the scope of an approval, its "
         "hashes and whether the verified chain covers it. `V` verifies the whole chain again.")
    keys("Escape")
    tmux("resize-window", "-t", "demo", "-x", "60", "-y", "20")
    time.sleep(1.5)
    sections.append("## The same views at 60x20\n\nThe smallest layout: compact columns, the detail full screen on `enter`.\n")
    keys("1")
    shot("Sessions", "", "###")
    keys("K")
    shot("Terminating a session", "`K` asks for a reason, then for a confirmation; `R` revokes the session's grants and `X` "
         "blocks its server the same way. Each is `warden respond …` on the command line.", "###")
    keys("Escape")
    keys("2")
    shot("Grants: the selected request's arguments whole under the list", "", "###")
    keys("a")
    shot("The approve dialog", "", "###")
    keys("Escape")
    keys("3")
    shot("Tools", "", "###")
    keys("4")
    shot("Alerts", "", "###")
    keys("5")
    shot("Playbooks", "", "###")
    keys("6")
    shot("Audit", "", "###")
    keys("Enter")
    shot("An audit record", "", "###")
    keys("Escape")
    keys("q", wait=3)
finally:
    subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True)
    shutil.rmtree(home, ignore_errors=True)

head = """# The console, as an operator runs it

Recorded from `warden demo` in tmux (`tmux capture-pane -p`) by `tools/record_console.py`, first at
200x50, then resized to 60x20, the smallest layout it supports. Untrusted text is escaped as it is
everywhere (`␛` for ESC, `<U+202E>` for invisible and direction characters). `?` lists every key;
every action is also a CLI command. Columns take the width there is: what the last column does not
need goes to columns whose text would be cut.
"""
tail = """## Recording it again

```sh
swift build -c release --product warden && tools/record_console.py
```
"""
with open(os.path.join(root, "docs/console.md"), "w") as f:
    f.write(head + "\n" + "\n".join(s.replace("\n\n\n```", "\n\n```") for s in sections) + "\n" + tail)
