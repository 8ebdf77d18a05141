using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Socks5UdpRelay.Server.Hosting;

/// <summary>
/// Checks the <c>Relay</c> section at start-up and reports every problem at once, each naming
/// its configuration key, the value found and what would be accepted.
/// </summary>
internal sealed class RelayOptionsValidator : IValidateOptions<RelayOptions>
{
    /// <summary>65 507 bytes of IPv4 UDP payload less the longest SOCKS header (262).</summary>
    public const int MaxDatagramSizeLimit = 65_507 - Protocol.UdpRequestHeader.MaxLength;

    public ValidateOptionsResult Validate(string? name, RelayOptions o)
    {
        var errors = new List<string>();
        const string S = RelayOptions.SectionName;
        if (o.Listen.Count == 0)
        {
            errors.Add($"{S}:Listen is empty: give at least one endpoint such as 127.0.0.1:1080 or [::1]:1080.");
        }

        for (int i = 0; i < o.Listen.Count; i++)
        {
            if (!EndpointText.TryParseEndpoint(o.Listen[i], out _))
            {
                errors.Add($"{S}:Listen:{i} = '{o.Listen[i]}' is not an endpoint: write address:port, e.g. 0.0.0.0:1080 or [::]:1080 (port 0 picks a free one).");
            }
        }

        var families = new HashSet<AddressFamily>();
        for (int i = 0; i < o.AdvertisedAddress.Count; i++)
        {
            if (!IPAddress.TryParse(o.AdvertisedAddress[i]?.Trim(), out var address))
            {
                errors.Add($"{S}:AdvertisedAddress:{i} = '{o.AdvertisedAddress[i]}' is not an IP address.");
            }
            else if (!families.Add(address.AddressFamily))
            {
                errors.Add($"{S}:AdvertisedAddress:{i} = '{o.AdvertisedAddress[i]}': at most one address per family.");
            }
        }

        if (!string.IsNullOrWhiteSpace(o.UdpPortRange) && !EndpointText.TryParseRange(o.UdpPortRange, out _, out _))
        {
            errors.Add($"{S}:UdpPortRange = '{o.UdpPortRange}' is not a range: write first-last, e.g. 40000-40099 (1-65535, first <= last), or leave it empty.");
        }

        Check(errors, o.Notices is not null && (o.Notices.Equals("on", StringComparison.OrdinalIgnoreCase) || o.Notices.Equals("off", StringComparison.OrdinalIgnoreCase)),
            $"{S}:Notices = '{o.Notices}': use on or off.");
        Check(errors, o.Commands is not null && (o.Commands.Equals("on", StringComparison.OrdinalIgnoreCase) || o.Commands.Equals("off", StringComparison.OrdinalIgnoreCase)),
            $"{S}:Commands = '{o.Commands}': use on or off.");
        Check(errors, o.UdpOverTcp is not null && (o.UdpOverTcp.Equals("on", StringComparison.OrdinalIgnoreCase) || o.UdpOverTcp.Equals("off", StringComparison.OrdinalIgnoreCase)),
            $"{S}:UdpOverTcp = '{o.UdpOverTcp}': use on or off.");
        Check(errors, o.MaxMappingsPerAssociation is >= 1 and <= 65_536, $"{S}:MaxMappingsPerAssociation = {o.MaxMappingsPerAssociation}: use 1 to 65536 (1: no MAP beyond mapping 0).");
        Check(errors, o.CommandsPerSecond >= 0, $"{S}:CommandsPerSecond = {o.CommandsPerSecond}: must be zero (no limit) or positive.");
        Check(errors, o.CommandBurst >= 1, $"{S}:CommandBurst = {o.CommandBurst}: must be at least 1.");
        Check(errors, Relay.FilteringModes.TryParse(o.Filtering, out _),
            $"{S}:Filtering = '{o.Filtering}': use address-dependent, address-and-port-dependent or endpoint-independent.");
        Check(errors, o.InboundDatagramsPerSecond >= 0, $"{S}:InboundDatagramsPerSecond = {o.InboundDatagramsPerSecond}: must be zero (no limit) or positive.");
        Check(errors, o.InboundBurst >= 1, $"{S}:InboundBurst = {o.InboundBurst}: must be at least 1.");
        Check(errors, o.ErrorQueue is not null && (o.ErrorQueue.Equals("auto", StringComparison.OrdinalIgnoreCase) || o.ErrorQueue.Equals("off", StringComparison.OrdinalIgnoreCase)),
            $"{S}:ErrorQueue = '{o.ErrorQueue}': use auto or off.");
        Check(errors, o.Offload is not null && (o.Offload.Equals("auto", StringComparison.OrdinalIgnoreCase) || o.Offload.Equals("off", StringComparison.OrdinalIgnoreCase)),
            $"{S}:Offload = '{o.Offload}': use auto or off.");
        Check(errors, o.Resolver is not null && (o.Resolver.Equals("dns", StringComparison.OrdinalIgnoreCase) || o.UsesSystemResolver),
            $"{S}:Resolver = '{o.Resolver}': use dns (the server's own asynchronous DNS client) or system (getaddrinfo).");
        Check(errors, o.EventLoops is >= 0 and <= Transport.Epoll.EpollTransport.MaxLoops,
            $"{S}:EventLoops = {o.EventLoops}: use 0 (one per processor) or 1 to {Transport.Epoll.EpollTransport.MaxLoops}.");
        Check(errors, o.MaxDatagramSize is >= 0 and <= MaxDatagramSizeLimit,
            $"{S}:MaxDatagramSize = {o.MaxDatagramSize}: use 0 to {MaxDatagramSizeLimit} (a larger payload cannot carry a SOCKS header in one datagram).");
        Check(errors, o.HandshakeTimeout > TimeSpan.Zero, $"{S}:HandshakeTimeout = {o.HandshakeTimeout}: must be positive, e.g. 00:00:10.");
        Check(errors, o.DestinationIdleTimeout > TimeSpan.Zero, $"{S}:DestinationIdleTimeout = {o.DestinationIdleTimeout}: must be positive, e.g. 00:02:00.");
        Check(errors, o.AssociationIdleTimeout >= TimeSpan.Zero, $"{S}:AssociationIdleTimeout = {o.AssociationIdleTimeout}: must be zero (off) or positive.");
        Check(errors, o.ResolveTimeout > TimeSpan.Zero, $"{S}:ResolveTimeout = {o.ResolveTimeout}: must be positive.");
        Check(errors, o.ResolverCacheTime >= TimeSpan.Zero, $"{S}:ResolverCacheTime = {o.ResolverCacheTime}: must not be negative.");
        Check(errors, o.ConnectTimeout > TimeSpan.Zero, $"{S}:ConnectTimeout = {o.ConnectTimeout}: must be positive.");
        Check(errors, o.ShutdownGracePeriod >= TimeSpan.Zero && o.ShutdownGracePeriod <= TimeSpan.FromMinutes(10),
            $"{S}:ShutdownGracePeriod = {o.ShutdownGracePeriod}: use 00:00:00 to 00:10:00.");
        Check(errors, o.MaxDestinationsPerAssociation >= 1, $"{S}:MaxDestinationsPerAssociation = {o.MaxDestinationsPerAssociation}: must be at least 1.");
        Check(errors, o.NoticeQueueLength >= 1, $"{S}:NoticeQueueLength = {o.NoticeQueueLength}: must be at least 1.");
        Check(errors, o.NoticesPerSecond >= 0 && double.IsFinite(o.NoticesPerSecond), $"{S}:NoticesPerSecond = {o.NoticesPerSecond}: must be zero or positive.");
        Check(errors, o.NoticeBurst >= 1, $"{S}:NoticeBurst = {o.NoticeBurst}: must be at least 1.");
        Check(errors, o.MaxConcurrentLookups >= 1, $"{S}:MaxConcurrentLookups = {o.MaxConcurrentLookups}: must be at least 1.");
        Check(errors, o.MaxLookupsPerAssociation >= 1 && o.MaxLookupsPerAssociation <= o.MaxConcurrentLookups,
            $"{S}:MaxLookupsPerAssociation = {o.MaxLookupsPerAssociation}: use 1 to {S}:MaxConcurrentLookups ({o.MaxConcurrentLookups}).");
        Check(errors, o.MaxPendingNameBytesPerAssociation >= 0 && o.MaxPendingNameBytesPerAssociation <= o.MaxPendingNameBytes,
            $"{S}:MaxPendingNameBytesPerAssociation = {o.MaxPendingNameBytesPerAssociation}: use 0 to {S}:MaxPendingNameBytes ({o.MaxPendingNameBytes}).");
        Check(errors, o.MaxPendingNameBytes >= 0, $"{S}:MaxPendingNameBytes = {o.MaxPendingNameBytes}: must not be negative.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Check(List<string> errors, bool ok, string message)
    {
        if (!ok)
        {
            errors.Add(message);
        }
    }
}
