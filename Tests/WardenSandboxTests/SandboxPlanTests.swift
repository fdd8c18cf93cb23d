import Testing
import WardenCore
import WardenSandbox

@Suite("sandbox plan")
struct SandboxPlanTests {
    let protected = ProtectedPaths(hidden: ["/home/u/.local/state/warden", "/home/u/.config/warden", "/run/user/1000"],
                                   readOnly: ["/home/u/.cursor/mcp.json", "/usr/bin/warden", "/missing/config.json"])
    let env = ["HOME": "/home/u", "PATH": "/usr/bin", "WARDEN_HOME": "/home/u/.local/state/warden", "TMUX": "/tmp/tmux-1000/default,1,0",
               "TMUX_PANE": "%1", "LANG": "C.UTF-8"]

    func kinds(_ path: String) -> PathKind? {
        switch path {
        case "/home/u/.local/state/warden", "/home/u/.config/warden", "/run/user/1000", "/tmp/repo", "/home/u/.aws", "/home/u/src": .directory
        case "/home/u/.cursor/mcp.json", "/usr/bin/warden", "/home/u/.netrc", "/tmp/build/server": .file
        default: nil
        }
    }

    func plan(_ profile: SandboxProfile = SandboxProfile(), command: [String] = ["uvx", "mcp-server-git", "--repository", "/tmp/repo"]) -> SandboxPlan {
        SandboxPlan(bwrap: "/usr/bin/bwrap", command: command, profile: profile, protected: protected, environment: env,
                    workingDirectory: "/home/u/src", infoFD: 3, exists: kinds)
    }

    /// The arguments as (option, path) pairs after the command's own bind of `/`.
    func mounts(_ p: SandboxPlan) -> [String] {
        let args = p.arguments
        var out: [String] = []
        var i = 0
        while i < args.count, args[i] != "--" {
            switch args[i] {
            case "--bind", "--ro-bind": out.append("\(args[i]) \(args[i + 1])>\(args[i + 2])"); i += 3
            case "--tmpfs", "--proc", "--dev": out.append("\(args[i]) \(args[i + 1])"); i += 2
            default: i += 1
            }
        }
        return out
    }

    @Test("the default profile: whole file system as is, then new /proc, /dev, private /tmp, named paths back, Warden's state hidden last")
    func defaultProfile() {
        let p = plan()
        for flag in ["--die-with-parent", "--new-session", "--unshare-pid", "--unshare-ipc", "--cap-drop"] { #expect(p.arguments.contains(flag)) }
        #expect(!p.arguments.contains("--unshare-net"))
        #expect(mounts(p) == [
            "--bind /", "--dev /dev", "--proc /proc", "--tmpfs /tmp", "--bind /tmp/repo>/tmp/repo",
            "--ro-bind /home/u/.cursor/mcp.json>/home/u/.cursor/mcp.json", "--ro-bind /usr/bin/warden>/usr/bin/warden",
            "--tmpfs /home/u/.local/state/warden", "--tmpfs /home/u/.config/warden", "--tmpfs /run/user/1000",
        ].map { $0 == "--bind /" ? "--bind />/" : $0 })
        #expect(Array(p.arguments.suffix(5)) == ["--", "uvx", "mcp-server-git", "--repository", "/tmp/repo"])
        #expect(p.isolation.isSandboxed && p.isolation.network == .allow)
    }

    @Test("Warden's variables and the multiplexer's are not in the server's environment")
    func environment() {
        let names = plan().environment.map { String($0.split(separator: "=")[0]) }
        #expect(names.sorted() == ["HOME", "LANG", "PATH"])
    }

    @Test("network none unshares the network; policy paths are mounted, hidden paths come after everything else")
    func tightened() {
        var profile = SandboxProfile()
        profile.network = .offline
        profile.readOnly = ["~/src"]
        profile.hide = ["~/.aws", "~/.netrc", "~/does-not-exist"]
        let p = plan(profile, command: ["server", "--root=/tmp/repo"])
        #expect(p.arguments.contains("--unshare-net"))
        let m = mounts(p)
        #expect(m.contains("--bind /tmp/repo>/tmp/repo"), "a --flag=/path argument is bound too")
        #expect(m.contains("--ro-bind /home/u/src>/home/u/src"))
        #expect(m.suffix(2) == ["--tmpfs /home/u/.aws", "--ro-bind /dev/null>/home/u/.netrc"])
        #expect(p.isolation.label == "sandbox net:none")
    }

    @Test("a program that lives under /tmp is bound into the private /tmp, read-only")
    func programUnderTmp() {
        let m = mounts(plan(command: ["/tmp/build/server", "--stdio"]))
        #expect(m.contains("--ro-bind /tmp/build/server>/tmp/build/server"))
    }

    @Test("a path under a hidden directory stays hidden even when the command names it")
    func hiddenWins() {
        let p = plan(command: ["server", "/home/u/.local/state/warden/hub.sock"])
        let m = mounts(p)
        #expect(m.last == "--tmpfs /run/user/1000")
        #expect(m.firstIndex(of: "--tmpfs /home/u/.local/state/warden")! > m.firstIndex(of: "--tmpfs /tmp")!)
    }

    @Test("policy off, or no bubblewrap: unsandboxed with the reason; fatal only when required")
    func unavailable() {
        var off = SandboxProfile()
        off.enabled = false
        guard case .unsandboxed(let why, let fatal) = Sandbox.prepare(command: ["x"], profile: off, protected: protected, environment: env,
                                                                      workingDirectory: "/") else { Issue.record("expected unsandboxed"); return }
        #expect(!fatal && why.unsandboxedReason!.contains("enabled: false") && why.label == "UNSANDBOXED")
        var required = SandboxProfile()
        required.required = true
        guard case .unsandboxed(let none, let fatal2) = Sandbox.prepare(command: ["x"], profile: required, protected: protected,
                                                                        environment: ["PATH": "/nonexistent"], workingDirectory: "/") else {
            Issue.record("expected unsandboxed without bwrap on PATH"); return
        }
        #expect(fatal2 && none.unsandboxedReason!.contains("bubblewrap"))
    }

    @Test("isolation round-trips through the JSON the session event carries")
    func isolationJSON() {
        let i = plan().isolation
        #expect(Isolation(json: i.json) == i)
        let u = Isolation.unsandboxed("no bwrap")
        #expect(Isolation(json: u.json) == u)
        #expect(Isolation(json: .null) == nil)
    }
}

@Suite("sandbox policy")
struct SandboxPolicyTests {
    @Test("defaults, per-server entries over them, and errors that name the key")
    func parse() throws {
        let policy = try PolicyLoader.parse("""
            version: 1
            sandbox:
              required: true
              filesystem: {hide: [~/.aws]}
              servers:
                "fetch*": {network: none}
                git: {filesystem: {read_write: [/tmp/work]}}
            """, source: "p.yaml")
        #expect(policy.sandbox.defaults.required && policy.sandbox.defaults.network == .allow)
        #expect(policy.sandbox.profile(for: "fetcher").network == .offline)
        #expect(policy.sandbox.profile(for: "git").readWrite == ["/tmp/work"])
        #expect(policy.sandbox.profile(for: "git").hide == ["~/.aws"])
        #expect(Policy.builtIn.sandbox.profile(for: "any").enabled)
        #expect(throws: PolicyError.self) { try PolicyLoader.parse("version: 1\nsandbox: {network: offline}\n", source: "p.yaml") }
        do {
            _ = try PolicyLoader.parse("version: 1\nsandbox:\n  filesystem: {hide: [relative/path]}\n", source: "p.yaml")
            Issue.record("a relative path must be refused")
        } catch {
            #expect(error.key == "sandbox.filesystem.hide" && error.line == 3)
        }
    }
}
