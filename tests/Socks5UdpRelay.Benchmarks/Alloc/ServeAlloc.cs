using System.Diagnostics.Tracing;
using Microsoft.Extensions.Hosting;
using Socks5UdpRelay.Server.Hosting;

namespace Socks5UdpRelay.Benchmarks.Alloc;

/// <summary>
/// <c>serve-alloc</c> (hidden; started by <c>alloc</c>): the real server host, built by
/// <see cref="RelayHost.CreateBuilder"/> exactly as its Program does, in a process doing nothing
/// else. Commands on stdin, one per line: <c>alloc</c> prints
/// <c>ALLOC bytes gen0 gen1 gen2</c> (<see cref="GC.GetTotalAllocatedBytes(bool)"/> precise);
/// <c>heap</c> prints the live managed heap after a full collection, the heap and committed sizes and the working set;
/// <c>types</c> prints the allocation sampler's counts when BENCH_ALLOC_TYPES=1; end of input stops the server.
/// </summary>
internal static class ServeAlloc
{
    public static int Run(string[] args)
    {
        var builder = RelayHost.CreateBuilder(args);
        var logger = RelayHost.CreateLogger(builder.Configuration);
        RelayHost.UseSerilog(builder, logger);
        using var sampler = Environment.GetEnvironmentVariable("BENCH_ALLOC_TYPES") == "1" ? new AllocationSampler() : null;
        using var host = builder.Build();
        host.Start();
        string? line;
        while ((line = Console.In.ReadLine()) is not null)
        {
            switch (line.Trim())
            {
                case "alloc":
                    long bytes = GC.GetTotalAllocatedBytes(precise: true);
                    Console.Out.WriteLine($"ALLOC {bytes} {GC.CollectionCount(0)} {GC.CollectionCount(1)} {GC.CollectionCount(2)}");
                    break;
                case "heap":
                    long live = GC.GetTotalMemory(forceFullCollection: true);
                    Console.Out.WriteLine($"HEAP live={live} heap={GC.GetGCMemoryInfo().HeapSizeBytes} committed={GC.GetGCMemoryInfo().TotalCommittedBytes} ws={Environment.WorkingSet}");
                    break;
                case "types":
                    foreach (var (type, count) in sampler?.Snapshot() ?? [])
                    {
                        Console.Out.WriteLine($"TYPE {count} {type}");
                    }

                    Console.Out.WriteLine("TYPES END");
                    break;
                case "reset-types":
                    sampler?.Reset();
                    Console.Out.WriteLine("RESET");
                    break;
            }

            Console.Out.Flush();
        }

        host.StopAsync().GetAwaiter().GetResult();
        return 0;
    }

    /// <summary>
    /// GCAllocationTick events (one per ~100 KB allocated, with the type that crossed the mark):
    /// which types the datagram path allocates, without a profiler. It allocates a little itself.
    /// </summary>
    private sealed class AllocationSampler : EventListener
    {
        private readonly Dictionary<string, long> _counts = [];

        public IReadOnlyList<(string Type, long Count)> Snapshot()
        {
            lock (_counts)
            {
                return _counts.OrderByDescending(kv => kv.Value).Select(kv => (kv.Key, kv.Value)).ToList();
            }
        }

        public void Reset()
        {
            lock (_counts)
            {
                _counts.Clear();
            }
        }

        protected override void OnEventSourceCreated(EventSource source)
        {
            if (source.Name == "Microsoft-Windows-DotNETRuntime")
            {
                EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1); // GC keyword
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            if (e.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) != true || e.PayloadNames is null)
            {
                return;
            }

            int i = e.PayloadNames.IndexOf("TypeName");
            string type = i >= 0 ? e.Payload?[i]?.ToString() ?? "?" : "?";
            lock (_counts)
            {
                _counts[type] = _counts.GetValueOrDefault(type) + 1;
            }
        }
    }
}
