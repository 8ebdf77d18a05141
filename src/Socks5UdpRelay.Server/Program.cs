using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Serilog;
using Socks5UdpRelay.Server.Hosting;
using Socks5UdpRelay.Server.Tools;

namespace Socks5UdpRelay.Server;

internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (ServerHelp.TryHandle(args, Console.Out) is { } answered)
        {
            return answered;
        }

        if (args.Length > 0 && args[0] == HashPasswordCommand.Name)
        {
            return HashPasswordCommand.Run(args[1..], Console.In, Console.Out, Console.Error);
        }

        if (args.Length > 0 && args[0] == HealthCheckCommand.Name)
        {
            return await HealthCheckCommand.RunAsync(args[1..], Console.Out).ConfigureAwait(false);
        }

        HostApplicationBuilder builder;
        try
        {
            builder = RelayHost.CreateBuilder(args);
        }
        catch (Exception e) when (e is FileNotFoundException or InvalidDataException or FormatException)
        {
            await Console.Error.WriteLineAsync(ConfigurationFileError.Describe(e)).ConfigureAwait(false);
            return 1;
        }

        RelayHost.ConfigureSocketEngine(builder.Configuration);
        var logger = RelayHost.CreateLogger(builder.Configuration, out string? loggingFailure);
        Log.Logger = logger.ForContext("SourceContext", "Socks5UdpRelay.Server");
        RelayHost.UseSerilog(builder, logger);
        try
        {
            using var host = builder.Build();
            var failures = RelayHost.Validate(host.Services).ToList();
            if (loggingFailure is not null)
            {
                failures.Add(loggingFailure);
            }

            if (failures.Count > 0)
            {
                foreach (string failure in failures)
                {
                    Log.Fatal("Invalid configuration: {Failure}", failure);
                }

                Log.Fatal("Not started: {Count} configuration error(s); see --help and the README's Configuration section", failures.Count);
                return 1;
            }

            var descriptors = DescriptorLimit.Raise();
            StartupReport.Write(host.Services, host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Socks5UdpRelay.Server"), descriptors);
            await host.RunAsync().ConfigureAwait(false);
            return 0;
        }
        catch (Exception e)
        {
            Log.Fatal(e, "The server stopped on an unexpected error");
            return 1;
        }
        finally
        {
            await Log.CloseAndFlushAsync().ConfigureAwait(false);
        }
    }
}
