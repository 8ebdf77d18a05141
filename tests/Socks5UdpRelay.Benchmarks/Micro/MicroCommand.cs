using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Socks5UdpRelay.Benchmarks.Micro;

/// <summary>
/// <c>micro</c>: BenchmarkDotNet over the protocol codecs. Short job (1 launch, 3 warm-ups, 5
/// iterations) in process, so the whole set finishes in a couple of minutes and needs no
/// generated project (which the central package versions here would not build). Extra
/// arguments go to BenchmarkDotNet (<c>--filter *Notice*</c>; default: every benchmark).
/// </summary>
internal static class MicroCommand
{
    public const string Usage = """
        micro [BenchmarkDotNet args]   codec microbenchmarks (UDP header per ATYP, notice lines), allocation column
        """;

    public static int Run(string[] args)
    {
        var job = Job.ShortRun.WithIterationCount(5).WithToolchain(InProcessEmitToolchain.Instance).WithId("Short");
        var config = ManualConfig.Create(DefaultConfig.Instance).AddJob(job).WithOptions(ConfigOptions.DisableOptimizationsValidator);
        if (!args.Contains("--filter"))
        {
            args = [.. args, "--filter", "*"];
        }

        var summaries = BenchmarkSwitcher.FromTypes([typeof(UdpHeaderBenchmarks), typeof(NoticeLineBenchmarks)]).Run(args, config);
        return summaries.Any(s => s.HasCriticalValidationErrors) ? 1 : 0;
    }
}
