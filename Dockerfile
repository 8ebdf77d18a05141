# Socks5UdpRelay server image.
#
#   docker build -t socks5udprelay .
#   docker run --rm -p 1080:1080/tcp -p 40000-40099:40000-40099/udp \
#     -e Policy__AllowClients__0=192.0.2.0/24 -e Relay__AdvertisedAddress__0=203.0.113.10 socks5udprelay
#
# Runtime image: mcr.microsoft.com/dotnet/runtime (framework-dependent publish), not runtime-deps
# with a self-contained publish. The ENTRYPOINT and the HEALTHCHECK run `dotnet` like every other
# .NET image, the runtime layer is shared with other .NET images on a host, and a self-contained
# build would gain little size unless trimmed, which configuration binding and
# Serilog.Settings.Configuration (reflection) do not survive safely. The same publish command also
# runs unchanged outside Docker (tests/Socks5UdpRelay.Server.Tests/Deployment/ runs it).

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src

# Restore layer: only what restore reads, so a source change does not re-download packages.
COPY Socks5UdpRelay.sln Directory.Build.props Directory.Packages.props global.json ./
COPY src/Socks5UdpRelay.Protocol/Socks5UdpRelay.Protocol.csproj src/Socks5UdpRelay.Protocol/
COPY src/Socks5UdpRelay.Server/Socks5UdpRelay.Server.csproj src/Socks5UdpRelay.Server/
RUN dotnet restore src/Socks5UdpRelay.Server/Socks5UdpRelay.Server.csproj

# .editorconfig sets analyzer severities, which warnings-as-errors makes part of the build.
COPY .editorconfig ./
COPY config/ config/
COPY src/ src/
RUN dotnet publish src/Socks5UdpRelay.Server/Socks5UdpRelay.Server.csproj --no-restore -c Release -o /app/publish -p:UseAppHost=false

FROM mcr.microsoft.com/dotnet/runtime:10.0 AS final
# config/appsettings.json lands beside the binary (/app/config), where the server looks for it
# from this working folder. Files stay owned by root: the app user can read them, not change them.
WORKDIR /app
COPY --from=build /app/publish ./

# Container defaults. All of them are ordinary configuration keys (config/appsettings.json) and
# can be overridden with -e at run time.
#
# The image listens on all addresses, so by design it does NOT start as an open relay: the
# server refuses to start until the operator gives users (Auth__Users__0__Name plus
# Auth__Users__0__PasswordHash, or Auth__Users__0__PasswordFile=/run/secrets/NAME) or a client
# allow-list (Policy__AllowClients__0=10.0.0.0/8), or says Policy__AllowOpenRelay=true.
#
# IPv6 is left to the operator (Relay__Listen__1=[::]:1080): a container has IPv6 only when its
# network was created with it, and a listener that cannot bind stops the start.
#
# Relay__UdpPortRange: a small range, published 1:1 (BND.PORT in the reply is the port the
# client sends to, so the host port must equal the container port). Its size caps the
# associations of all clients together; Limits__MaxAssociationsPerClient gives one client a
# quarter of it, so no one client holds every port (the server refuses to start with a per-client
# limit larger than the range).
#
# Metrics: /metrics and /healthz must listen off loopback inside a container to be scraped at
# all; publish 9180 only to the host's loopback or a monitoring network, and restrict it with
# the network policy.
ENV Relay__Listen__0=0.0.0.0:1080 \
    Relay__UdpPortRange=40000-40099 \
    Limits__MaxAssociationsPerClient=25 \
    LogFormat=json \
    Metrics__Enabled=true \
    Metrics__Listen=0.0.0.0:9180

# The .NET images define the non-root user app (uid 1654) and APP_UID.
USER $APP_UID

EXPOSE 1080/tcp 40000-40099/udp 9180/tcp

# The application checks itself: it connects to Relay:Listen:0 (a wildcard address through
# loopback) and completes a SOCKS5 method negotiation. The runtime image has no curl.
HEALTHCHECK --interval=30s --timeout=10s --start-period=10s --retries=3 \
    CMD ["dotnet", "Socks5UdpRelay.Server.dll", "healthcheck"]

# SIGTERM: every association gets "CLOSING reason=shutdown", then the process exits 0 within
# Relay:ShutdownGracePeriod (10 s by default; give `docker stop -t` / stop_grace_period more).
STOPSIGNAL SIGTERM
ENTRYPOINT ["dotnet", "Socks5UdpRelay.Server.dll"]
