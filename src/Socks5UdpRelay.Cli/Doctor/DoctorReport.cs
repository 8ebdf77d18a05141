using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Socks5UdpRelay.Cli.Doctor;

/// <summary>
/// Prints doctor's findings: one line per stage on stdout as it finishes (with the fix on an
/// indented line below), or with --json one object per stage; then a last line (object) that
/// names the failing stage. On a terminal, stderr shows which stage is running.
/// </summary>
internal sealed class DoctorReport(CliConsole console, bool json)
{
    private readonly ProgressLine _progress = new(console);

    public void Progress(DoctorStage stage)
    {
        _progress.Show($"s5nc doctor: [{(int)stage}/{DoctorStages.All.Count}] {stage.Title()} ...");
    }

    public void Write(StageResult result)
    {
        _progress.Clear();
        if (json)
        {
            console.Out.WriteLine(ToJson(result));
            return;
        }

        console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{result.Verdict.Name(),-8}{(int)result.Stage,2}  {result.Stage.Title(),-19}{result.Saw}"));
        if (result.Fix is { } fix)
        {
            console.Out.WriteLine($"{string.Empty,31}fix: {fix}");
        }
    }

    /// <summary>Prints the last line and returns the exit code: the first failing stage's, 0 when every stage is ok, warn or skipped.</summary>
    public int Finish(IReadOnlyList<StageResult> results, TimeSpan elapsed)
    {
        _progress.Clear();
        var failed = results.FirstOrDefault(r => r.IsFailure);
        int exit = ExitCode(failed);
        if (json)
        {
            console.Out.WriteLine(SummaryJson(failed, exit, elapsed));
        }
        else if (failed is null)
        {
            int warnings = results.Count(r => r.Verdict == Verdict.Warn);
            int skipped = results.Count(r => r.Verdict == Verdict.Skip);
            console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"s5nc doctor: every stage ok or warn ({warnings} warn, {skipped} skipped) in {elapsed.TotalSeconds:0.00} s"));
        }
        else
        {
            console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"s5nc doctor: {failed.Verdict.Name()} at stage {(int)failed.Stage} ({failed.Stage.Title()}) after {elapsed.TotalSeconds:0.00} s, exit {exit}"));
        }

        return exit;
    }

    /// <summary>The CLI's table: 1 beyond the relay, 3 the proxy side, 4 authentication.</summary>
    public static int ExitCode(StageResult? failed) => failed?.Side switch
    {
        null => ExitCodes.Success,
        FailureSide.Authentication => ExitCodes.AuthenticationFailed,
        FailureSide.Proxy => ExitCodes.ProxyFailed,
        _ => ExitCodes.Unreachable,
    };

    public static string ToJson(StageResult result) => Write(writer =>
    {
        writer.WriteNumber("number", (int)result.Stage);
        writer.WriteString("stage", result.Stage.Key());
        writer.WriteString("verdict", result.Verdict.Name());
        writer.WriteString("saw", result.Saw);
        writer.WriteString("fix", result.Fix);
        writer.WriteStartObject("details");
        foreach (var (key, value) in result.Facts ?? new Dictionary<string, object?>())
        {
            writer.WritePropertyName(key);
            switch (value)
            {
                case null:
                    writer.WriteNullValue();
                    break;
                case bool b:
                    writer.WriteBooleanValue(b);
                    break;
                case int i:
                    writer.WriteNumberValue(i);
                    break;
                case double d:
                    writer.WriteNumberValue(d);
                    break;
                default:
                    writer.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture));
                    break;
            }
        }

        writer.WriteEndObject();
    });

    private static string SummaryJson(StageResult? failed, int exit, TimeSpan elapsed) => Write(writer =>
    {
        writer.WriteString("result", failed is null ? "ok" : "fail");
        writer.WriteString("failed_stage", failed?.Stage.Key());
        if (failed is null)
        {
            writer.WriteNull("failed_stage_number");
        }
        else
        {
            writer.WriteNumber("failed_stage_number", (int)failed.Stage);
        }

        writer.WriteNumber("exit_code", exit);
        writer.WriteNumber("elapsed_ms", Math.Round(elapsed.TotalMilliseconds, 1));
    });

    private static string Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new MemoryStream();
        // Relaxed escaping: the text is for people and jq, not for embedding in HTML.
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
