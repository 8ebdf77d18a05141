using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Serilog;
using Socks5UdpRelay.Server.Hosting;

namespace Socks5UdpRelay.Server;

internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        HostApplicationBuilder builder;
        try
        {
            builder = RelayHost.CreateBuilder(args);
        }
        catch (Exception e) when (e is FileNotFoundException or InvalidDataException or FormatException)
        {
            await Console.Error.WriteLineAsync($"Configuration could not be read: {e.Message}").ConfigureAwait(false);
            return 1;
        }

        var logger = RelayHost.CreateLogger(builder.Configuration);
        Log.Logger = logger;
        RelayHost.UseSerilog(builder, logger);
        try
        {
            using var host = builder.Build();
            await host.RunAsync().ConfigureAwait(false);
            return 0;
        }
        catch (OptionsValidationException e)
        {
            ReportInvalid([e]);
            return 1;
        }
        catch (AggregateException e) when (e.InnerExceptions.All(i => i is OptionsValidationException))
        {
            ReportInvalid(e.InnerExceptions.Cast<OptionsValidationException>());
            return 1;
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

    private static void ReportInvalid(IEnumerable<OptionsValidationException> exceptions)
    {
        var failures = exceptions.SelectMany(e => e.Failures).ToList();
        foreach (string failure in failures)
        {
            Log.Fatal("Invalid configuration: {Failure}", failure);
        }

        Log.Fatal("Not started: {Count} configuration error(s)", failures.Count);
    }
}
