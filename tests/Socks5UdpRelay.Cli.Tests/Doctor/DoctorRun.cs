using System.Text.Json;

namespace Socks5UdpRelay.Cli.Tests.Doctor;

/// <summary>One <c>s5nc doctor --json</c> run: its exit code, one object per stage, and the summary object.</summary>
internal sealed record DoctorRun(int ExitCode, string Stdout, string Stderr)
{
    public IReadOnlyList<JsonElement> Stages { get; } = Parse(Stdout).Where(o => o.TryGetProperty("stage", out _)).ToList();

    public JsonElement Summary => Parse(Stdout).Single(o => o.TryGetProperty("result", out _));

    /// <summary>The verdicts in stage order, space-separated, as <see cref="DoctorExpectations"/> writes them.</summary>
    public string Verdicts => string.Join(' ', Stages.Select(s => s.GetProperty("verdict").GetString()));

    /// <summary>Runs doctor in process with <c>--json</c> and the given environment (nothing else of the test's leaks in).</summary>
    public static async Task<DoctorRun> InProcessAsync(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = await Cli.RunAsync(["doctor", .. args, "--json"], new StringReader(string.Empty), output, error,
            environment ?? new Dictionary<string, string>(), new CancellationTokenSource(DoctorTimeout).Token).WaitAsync(DoctorTimeout);
        return new DoctorRun(exit, output.ToString(), error.ToString());
    }

    /// <summary>Longer than the test bound: a run with silent stages and --idle takes several seconds.</summary>
    public static readonly TimeSpan DoctorTimeout = TimeSpan.FromSeconds(60);

    public JsonElement Stage(string key) => Stages.Single(s => s.GetProperty("stage").GetString() == key);

    public string Saw(string key) => Stage(key).GetProperty("saw").GetString()!;

    public string? Fix(string key) => Stage(key).GetProperty("fix").GetString();

    /// <summary>Asserts a row of <see cref="DoctorExpectations.Table"/>: every stage's verdict, the exit code, and the failing stage in the summary.</summary>
    public void AssertMatches(string setUp)
    {
        var (verdicts, exit) = DoctorExpectations.Table[setUp];
        Assert.True(verdicts == Verdicts && exit == ExitCode, $"{setUp}: expected [{verdicts}] exit {exit}, doctor said [{Verdicts}] exit {ExitCode}\n{this}");
        var failed = Stages.FirstOrDefault(s => s.GetProperty("verdict").GetString() is "fail" or "unknown");
        Assert.Equal(failed.ValueKind == JsonValueKind.Undefined ? null : failed.GetProperty("stage").GetString(), Summary.GetProperty("failed_stage").GetString());
        Assert.Equal(exit, Summary.GetProperty("exit_code").GetInt32());
    }

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}--- stderr\n{Stderr}";

    private static IEnumerable<JsonElement> Parse(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement);
}
