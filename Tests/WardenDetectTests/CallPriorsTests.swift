import Testing
import WardenCore
@testable import WardenDetect

@Suite("priors that judge a call with no history")
struct CallPriorsTests {
    static let schema: JSONObject = [
        "type": "object",
        "properties": [
            "url": ["type": "string", "format": "uri"],
            "city": ["type": "string", "maxLength": 64],
            "unit": ["type": "string", "enum": ["celsius", "fahrenheit"]],
            "note": ["type": "string"],
            "content": ["type": "string"],
            "options": ["type": "object", "properties": ["label": ["type": "string", "maxLength": 20]]],
            "tags": ["type": "array", "items": ["type": "string", "maxLength": 16]],
        ],
    ]

    static func priors(_ arguments: String) -> [String] {
        let args = try! JSONParser.parse(arguments)
        return CallPriors.judge(arguments: args, hosts: Destinations.find(in: args).network, schema: schema).map(\.prior)
    }

    @Test("each prior fires on the first call that breaks it, and says what it saw")
    func attacks() {
        let blob = String(repeating: "QWxhZGRpbjpvcGVuIHNlc2FtZQ9x", count: 12)
        let cases: [(String, String)] = [
            (#"{"url":"http://203.0.113.9/x"}"#, "destination.ip-literal"),
            (#"{"url":"http://0xCB007109/x"}"#, "destination.ip-literal"),
            (#"{"url":"http://[2001:db8::7]/x"}"#, "destination.ip-literal"),
            (#"{"url":"http://169.254.169.254/latest/meta-data/"}"#, "destination.ip-literal"),
            (#"{"url":"https://a1b2c3.ngrok-free.app/hook"}"#, "destination.tunnel"),
            (#"{"url":"https://myhome.duckdns.org/"}"#, "destination.tunnel"),
            (#"{"url":"https://xkqzvbwplmtrh.com/a"}"#, "destination.random-label"),
            (#"{"url":"https://6a6f686e2e736d697468406578616d.attacker.example/"}"#, "destination.random-label"),
            (#"{"url":"http://updates.example.com:4444/"}"#, "destination.port"),
            (#"{"url":"https://api.example.com/p?d=\#(blob)"}"#, "destination.query-data"),
            (#"{"city":"\#(String(repeating: "Paris ", count: 20))"}"#, "argument.size"),
            (#"{"unit":"kelvin; cat ~/.ssh/id_rsa"}"#, "argument.enum"),
            (#"{"note":"\#(blob)"}"#, "argument.encoded"),
            (#"{"url":"http://203.0.113.9.nip.io/"}"#, "destination.ip-literal"),
            (#"{"url":"http://metadata.google.internal/computeMetadata/v1/"}"#, "destination.ip-literal"),
            (#"{"url":"http://192.168.1.20:8123/"}"#, "destination.private-address"),
            (#"{"url":"http://collect.example.net:4444\\@localhost:8080/"}"#, "destination.port"),
            (#"{"url":"http://127.attacker.example:4444/"}"#, "destination.port"),
            (#"{"url":"https://relay.devtunnels.ms/in"}"#, "destination.tunnel"),
            (#"{"url":"https://collect.example.com/\#(String(blob.prefix(120)))"}"#, "destination.path-data"),
            (#"{"options":{"label":"\#(String(repeating: "y", count: 40))"}}"#, "argument.size"),
            (#"{"tags":["ok","\#(String(repeating: "z", count: 40))"]}"#, "argument.size"),
            (#"{"url":"https://www.example.com/search?q=\#(String(blob.prefix(80)))"}"#, "destination.query-data"),
        ]
        for (arguments, prior) in cases {
            #expect(Self.priors(arguments).contains(prior), "\(prior) missed: \(arguments.prefix(80))")
        }
        let p = CallPriors.judge(arguments: try! JSONParser.parse(#"{"city":"\#(String(repeating: "x", count: 100))"}"#), hosts: [], schema: Self.schema)
        #expect(p.first?.seen == "'city' is 100 characters" && p.first?.expected == "the schema allows at most 64")
    }

    @Test("ordinary traffic breaks none: documentation sites, local servers, paths, notes of any length, payloads where the schema expects them")
    func benign() {
        let ordinary = [
            #"{"url":"https://docs.python.org/3/library/json.html#json.dumps"}"#,
            #"{"url":"https://developer.mozilla.org/en-US/docs/Web/API/Fetch_API/Using_Fetch?retiredLocale=de"}"#,
            #"{"url":"https://github.com/modelcontextprotocol/python-sdk/blob/main/README.md"}"#,
            #"{"url":"https://stackoverflow.com/questions/11227809/why-is-processing-a-sorted-array-faster?answertab=votes#tab-top"}"#,
            #"{"url":"https://www.google.com/search?q=swift+structured+concurrency+task+groups&hl=en"}"#,
            #"{"url":"http://localhost:3000/api/health"}"#,
            #"{"url":"http://127.0.0.1:8000/docs"}"#,
            #"{"url":"https://swiftpackageindex.com/apple/swift-nio/2.65.0/documentation/nio"}"#,
            #"{"url":"https://kubernetes.io/docs/concepts/workloads/pods/"}"#,
            #"{"url":"https://en.wikipedia.org/wiki/Shannon_(unit)"}"#,
            #"{"url":"https://pypi.org/project/mcp-server-time/"}"#,
            #"{"url":"https://s3.eu-west-1.amazonaws.com/my-bucket/report-2026-11.pdf"}"#,
            #"{"city":"Saint-Rémy-de-Provence","unit":"celsius"}"#,
            #"{"note":"\#(String(repeating: "Met with the team about the Q3 roadmap. ", count: 60))"}"#,
            #"{"content":"\#(String(repeating: "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk", count: 20))"}"#,
            #"{"note":"see /home/me/project/src/main.swift and ~/notes/todo.md"}"#,
            #"{"note":"commit 3f9a2c4e1b7d8e6f5a4b3c2d1e0f9a8b7c6d5e4f fixed it"}"#,
            #"{"url":"https://my-app-git-feature-abc123-team.vercel.app/"}"#,
            #"{"url":"https://hello-world-abc123xyz-ew.a.run.app/health"}"#,
            #"{"url":"https://bucket.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20261203%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=\#(String(repeating: "ab12", count: 16))"}"#,
            #"{"url":"https://api.github.com/graphql?after=Y3Vyc29yOnYyOpK5MjAyNi0xMi0wM1QxNDowMDowMCswMDowMM4Abc123"}"#,
            #"{"url":"https://api.github.com/repos/o/r/actions/runs?head_sha=3f9a2c4e1b7d8e6f5a4b3c2d1e0f9a8b7c6d5e4f"}"#,
            #"{"url":"postgres://db.example.com:5432/app?sslmode=require"}"#,
            #"{"url":"http://grafana.internal:3000/d/abc"}"#,
            #"{"url":"http://host.docker.internal:11434/api/tags"}"#,
            #"{"url":"https://example.com/page 2"}"#,
            #"{"url":"https://jira.example.com/issues/?jql=project%20%3D%20PLAT%20AND%20status%20in%20(%22In%20Progress%22%2C%20%22In%20Review%22)%20AND%20assignee%20%3D%20currentUser()%20ORDER%20BY%20updated%20DESC"}"#,
        ]
        for arguments in ordinary {
            #expect(Self.priors(arguments).isEmpty, "\(Self.priors(arguments)) on \(arguments.prefix(90))")
        }
    }
}
