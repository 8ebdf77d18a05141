using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Serilog;

namespace Socks5UdpRelay.Server.Hosting;

/// <summary>
/// Builds the server's host: configuration from config/appsettings.json (found from the
/// repository root, the publish folder or the container), environment variables and the
/// command line; Serilog as the logging sink; the relay's services.
/// </summary>
internal static class RelayHost
{
    public const string ConfigDirectoryVariable = "SOCKS5UDPRELAY_CONFIG_DIR";

    public static HostApplicationBuilder CreateBuilder(string[] args)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { Args = args });
        string configDirectory = FindConfigDirectory();
        builder.Configuration
            .AddJsonFile(Path.Combine(configDirectory, "appsettings.json"), optional: false, reloadOnChange: false)
            .AddJsonFile(Path.Combine(configDirectory, $"appsettings.{builder.Environment.EnvironmentName}.json"), optional: true, reloadOnChange: false)
            .AddEnvironmentVariables()
            .AddCommandLine(args);

        builder.Services.AddSocks5Relay(builder.Configuration);
        // Read raw: a malformed value is reported by option validation, not thrown from here.
        string? grace = builder.Configuration[$"{RelayOptions.SectionName}:{nameof(RelayOptions.ShutdownGracePeriod)}"];
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout =
            TimeSpan.TryParse(grace, System.Globalization.CultureInfo.InvariantCulture, out var g) && g >= TimeSpan.Zero ? g : TimeSpan.FromSeconds(10));
        return builder;
    }

    /// <summary>
    /// Applies <see cref="RelayOptions.InlineSocketCompletions"/>. Must run before the process
    /// uses its first socket: .NET reads the switch once, when its socket engine starts.
    /// </summary>
    public static void ConfigureSocketEngine(IConfiguration configuration)
    {
        const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
        string? setting = configuration[$"{RelayOptions.SectionName}:{nameof(RelayOptions.InlineSocketCompletions)}"];
        if (Environment.GetEnvironmentVariable(Variable) is null && !string.Equals(setting, "false", StringComparison.OrdinalIgnoreCase))
        {
            Environment.SetEnvironmentVariable(Variable, "1");
        }
    }

    /// <summary>
    /// Every configuration error of every section at once (options validate lazily, one section
    /// at a time, otherwise): call after Build, before Start.
    /// </summary>
    public static IReadOnlyList<string> Validate(IServiceProvider services)
    {
        var failures = new List<string>();
        Collect<RelayOptions>(services, failures);
        Collect<PolicyOptions>(services, failures);
        Collect<Auth.AuthOptions>(services, failures);
        Collect<LimitsOptions>(services, failures);
        Collect<Metrics.MetricsOptions>(services, failures);
        return failures;
    }

    private static void Collect<T>(IServiceProvider services, List<string> failures)
        where T : class
    {
        try
        {
            _ = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<T>>().Value;
        }
        catch (Microsoft.Extensions.Options.OptionsValidationException e)
        {
            failures.AddRange(e.Failures);
        }
        catch (InvalidOperationException e)
        {
            failures.Add(e.Message); // a value the binder could not convert names its key
        }
    }

    /// <summary>
    /// Serilog: levels (and any extra sinks) from the <c>Serilog</c> section, plus the console in
    /// the format <c>LogFormat</c> names: <c>text</c> (default) for people, <c>json</c> for log
    /// collectors in containers.
    /// </summary>
    public static Serilog.ILogger CreateLogger(IConfiguration configuration)
    {
        var config = new LoggerConfiguration().MinimumLevel.Information();
        if (configuration.GetSection("Serilog").Exists())
        {
            config.ReadFrom.Configuration(configuration);
        }

        return string.Equals(configuration["LogFormat"], "json", StringComparison.OrdinalIgnoreCase)
            ? config.WriteTo.Console(new Serilog.Formatting.Json.JsonFormatter(renderMessage: true)).CreateLogger()
            : config.WriteTo.Console(outputTemplate: "{Timestamp:HH:mm:ss.fff} [{Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}").CreateLogger();
    }

    public static void UseSerilog(HostApplicationBuilder builder, Serilog.ILogger logger)
    {
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Trace); // Serilog's own levels decide
        builder.Logging.AddSerilog(logger, dispose: true);
    }

    /// <summary>
    /// The folder holding appsettings.json: $SOCKS5UDPRELAY_CONFIG_DIR, else ./config (the
    /// repository root or the container's working folder), else config/ beside the binary (the
    /// build output and the publish folder carry a copy).
    /// </summary>
    public static string FindConfigDirectory()
    {
        string? explicitDirectory = Environment.GetEnvironmentVariable(ConfigDirectoryVariable);
        if (!string.IsNullOrEmpty(explicitDirectory))
        {
            return Path.GetFullPath(explicitDirectory);
        }

        foreach (string candidate in new[] { Path.Combine(Directory.GetCurrentDirectory(), "config"), Path.Combine(AppContext.BaseDirectory, "config") })
        {
            if (File.Exists(Path.Combine(candidate, "appsettings.json")))
            {
                return candidate;
            }
        }

        return Path.Combine(AppContext.BaseDirectory, "config");
    }
}
