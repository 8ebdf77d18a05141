using Socks5UdpRelay.Benchmarks.Alloc;
using Socks5UdpRelay.Benchmarks.Flood;
using Socks5UdpRelay.Benchmarks.Gateway;
using Socks5UdpRelay.Benchmarks.Infrastructure;
using Socks5UdpRelay.Benchmarks.Load;
using Socks5UdpRelay.Benchmarks.Micro;

namespace Socks5UdpRelay.Benchmarks;

/// <summary>
/// Load tool, microbenchmarks and resource checks for the relay (issue #6). Loopback only (the gateway benchmark: namespaces of its own);
/// every loop is bounded by time and count; child processes die with this one.
/// </summary>
internal static class Program
{
    private const string Usage = """
        usage: dotnet run -c Release --project tests/Socks5UdpRelay.Benchmarks -- COMMAND [options]

        """;

    private static readonly HashSet<string> Flags = ["smoke", "help", "types", "flow-stream"];

    public static int Main(string[] argv)
    {
        if (argv.Length == 0 || argv[0] is "-h" or "--help" or "help")
        {
            PrintUsage();
            return argv.Length == 0 ? 2 : 0;
        }

        if (argv[0] == "serve-alloc")
        {
            return ServeAlloc.Run(argv[1..]);
        }

        if (argv[0] == "micro")
        {
            return MicroCommand.Run(argv[1..]);
        }

        Children.InstallHandlers();
        try
        {
            var args = new Args(argv[1..], Flags);
            return argv[0] switch
            {
                "load" when args.Flag("smoke") => SmokeCommand.Run(args),
                "load" when args.Get("flood") is not null => FloodCommand.Run(args),
                "load" => LoadCommand.Run(args),
                "smoke" => SmokeCommand.Run(args),
                "alloc" => AllocCommand.Run(args),
                "client-alloc" => ClientAllocCommand.Run(args),
                "scale" => ScaleCommand.Run(args),
                "notice-latency" => NoticeLatencyCommand.Run(args),
                "command-latency" => CommandLatencyCommand.Run(args),
                "gateway" => GatewayCommand.Run(args),
                _ => throw new UsageException($"unknown command '{argv[0]}'"),
            };
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            PrintUsage();
            return 2;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"failed: {e}");
            return 1;
        }
        finally
        {
            Children.KillAll();
        }
    }

    private static void PrintUsage()
    {
        Console.Error.Write(Usage);
        Console.Error.WriteLine(LoadCommand.Usage);
        Console.Error.WriteLine(FloodCommand.Usage);
        Console.Error.WriteLine(SmokeCommand.Usage);
        Console.Error.WriteLine(NoticeLatencyCommand.Usage);
        Console.Error.WriteLine(CommandLatencyCommand.Usage);
        Console.Error.WriteLine(GatewayCommand.Usage);
        Console.Error.WriteLine(AllocCommand.Usage);
        Console.Error.WriteLine(ClientAllocCommand.Usage);
        Console.Error.WriteLine(ScaleCommand.Usage);
        Console.Error.WriteLine(MicroCommand.Usage);
    }
}
