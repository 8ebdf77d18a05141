using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
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
    /// Every configuration error of every section at once: keys the server does not have, values
    /// that do not convert (<see cref="StrictConfiguration"/>), then each section's validators, run
    /// on the section with the unconvertible values left out, so their own findings are reported
    /// alongside (options validate lazily, one section at a time and stopping at the first value
    /// the binder cannot convert, otherwise). Call after Build, before Start.
    /// </summary>
    public static IReadOnlyList<string> Validate(IServiceProvider services)
    {
        var configuration = services.GetRequiredService<IConfiguration>();
        var unusable = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var failures = StrictConfiguration.Check(configuration, unusable);
        Collect<RelayOptions>(services, configuration, RelayOptions.SectionName, unusable, failures);
        Collect<PolicyOptions>(services, configuration, PolicyOptions.SectionName, unusable, failures);
        Collect<Auth.AuthOptions>(services, configuration, Auth.AuthOptions.SectionName, unusable, failures);
        Collect<LimitsOptions>(services, configuration, LimitsOptions.SectionName, unusable, failures);
        Collect<Metrics.MetricsOptions>(services, configuration, Metrics.MetricsOptions.SectionName, unusable, failures);
        Collect<Admin.AdminOptions>(services, configuration, Admin.AdminOptions.SectionName, unusable, failures);
        return failures;
    }

    private static void Collect<T>(IServiceProvider services, IConfiguration configuration, string section, HashSet<string> unusable, List<string> failures)
        where T : class, new()
    {
        var usable = configuration.GetSection(section).AsEnumerable()
            .Where(kv => kv.Value is not null && !unusable.Any(u => kv.Key.Equals(u, StringComparison.OrdinalIgnoreCase) || kv.Key.StartsWith(u + ":", StringComparison.OrdinalIgnoreCase)));
        var options = new T();
        new ConfigurationBuilder().AddInMemoryCollection(usable).Build().GetSection(section).Bind(options);
        foreach (var validator in services.GetServices<IValidateOptions<T>>())
        {
            var result = validator.Validate(Options.DefaultName, options);
            if (result.Failed)
            {
                failures.AddRange(result.Failures);
            }
        }
    }

    /// <summary>
    /// Serilog: levels (and any extra sinks) from the <c>Serilog</c> section, plus the console in
    /// the format <c>LogFormat</c> names: <c>text</c> (default) for people, with control characters
    /// in every value escaped (<see cref="Logging.LogValueEscaper"/>), <c>json</c> for log
    /// collectors in containers. A <c>Serilog</c> section with a bad level is left out (the level
    /// is reported by <see cref="Validate"/>); one Serilog still cannot read sets
    /// <paramref name="failure"/> instead of throwing, so the start fails with a message, not a stack trace.
    /// </summary>
    public static Serilog.ILogger CreateLogger(IConfiguration configuration) => CreateLogger(configuration, out _);

    /// <inheritdoc cref="CreateLogger(IConfiguration)"/>
    public static Serilog.ILogger CreateLogger(IConfiguration configuration, out string? failure)
    {
        failure = null;
        var config = new LoggerConfiguration().MinimumLevel.Information();
        if (configuration.GetSection(StrictConfiguration.SerilogSection).Exists() && StrictConfiguration.SerilogErrors(configuration).Count == 0)
        {
            try
            {
                config.ReadFrom.Configuration(configuration);
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException or InvalidCastException or System.Reflection.TargetInvocationException)
            {
                failure = $"{StrictConfiguration.SerilogSection}: {(e as System.Reflection.TargetInvocationException)?.InnerException?.Message ?? e.Message}";
                config = new LoggerConfiguration().MinimumLevel.Information();
            }
        }

        return string.Equals(configuration[StrictConfiguration.LogFormatKey], "json", StringComparison.OrdinalIgnoreCase)
            ? config.WriteTo.Console(new Logging.JsonLogFormatter()).CreateLogger()
            : config.Enrich.With<Logging.LogValueEscaper>()
                .WriteTo.Console(outputTemplate: "{Timestamp:HH:mm:ss.fff} [{Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}").CreateLogger();
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
