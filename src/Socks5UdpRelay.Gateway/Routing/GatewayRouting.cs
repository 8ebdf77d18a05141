using Microsoft.Extensions.Logging;

namespace Socks5UdpRelay.Gateway.Routing;

/// <summary>
/// Applies and removes a <see cref="RoutingPlan"/>. <see cref="RemoveAll"/> deletes everything the
/// plan names whether this process added it or a killed earlier instance did: rules at the plan's
/// priorities that look up its table, the table's routes, the nftables table. The device itself is
/// not persistent and needs no removal.
/// </summary>
internal sealed class GatewayRouting
{
    private readonly RoutingPlan _plan;
    private readonly ILogger _logger;

    public GatewayRouting(RoutingPlan plan, ILogger logger)
    {
        _plan = plan;
        _logger = logger;
    }

    /// <summary>Removes leftovers of an earlier instance; returns how many rules it deleted.</summary>
    public int RemoveLeftovers()
    {
        int removed = RemoveAll();
        if (removed > 0)
        {
            GatewayLog.LeftoversRemoved(_logger, removed);
        }

        return removed;
    }

    /// <summary>
    /// Sets up the device (it must exist: the caller holds it open), the table, the nftables mark and
    /// the rules, rules last so traffic enters only once all is ready. On failure, removes what it
    /// did and throws <see cref="GatewayException"/>.
    /// </summary>
    public void Apply()
    {
        try
        {
            if (!_plan.HasIPv6 && File.Exists(_plan.DisableIPv6Path))
            {
                // Before the device goes up, so no link-local address is ever made (a host without IPv6 has no such file).
                WriteSysctl(_plan.DisableIPv6Path, "1");
            }

            foreach (var command in _plan.DeviceCommands())
            {
                HostCommand.Run("ip", command);
            }

            if (_plan.HasIPv4)
            {
                HostCommand.Run("nft", ["-f", "-"], _plan.NftSetupScript());
                WriteSysctl(_plan.SourceValidMarkPath, "1");
            }

            foreach (var command in _plan.RuleCommands())
            {
                HostCommand.Run("ip", command);
            }
        }
        catch (GatewayException)
        {
            RemoveAll();
            throw;
        }
    }

    /// <summary>Deletes every rule, route and nftables table of the plan; errors are logged, not thrown. Returns the rules deleted.</summary>
    public int RemoveAll()
    {
        int removed = 0;
        foreach (var family in new[] { "-4", "-6" })
        {
            try
            {
                var listing = HostCommand.TryRun("ip", [family, "rule", "show"]);
                var rules = _plan.OwnRules(listing.Output);
                removed += rules.Sum(r => r.Count);
                var (exitCode, _, error) = HostCommand.TryRun("ip", [family, "-force", "-batch", "-"], _plan.RemoveScript(rules));
                if (exitCode != 0 && !string.IsNullOrWhiteSpace(error))
                {
                    GatewayLog.RemoveFailed(_logger, $"ip {family}", error.Trim().Split('\n')[0]);
                }
            }
            catch (GatewayException exception)
            {
                GatewayLog.RemoveFailed(_logger, $"ip {family}", exception.Message);
            }
        }

        if (HostCommand.Find("nft") is not null)
        {
            try
            {
                HostCommand.Run("nft", ["-f", "-"], _plan.NftRemoveScript());
            }
            catch (GatewayException exception)
            {
                GatewayLog.RemoveFailed(_logger, "nft", exception.Message);
            }
        }

        return removed;
    }

    private static void WriteSysctl(string path, string value)
    {
        try
        {
            File.WriteAllText(path, value);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new GatewayException($"writing {value} to {path} failed: {exception.Message}", exception);
        }
    }
}
