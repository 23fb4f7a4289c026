# JobWorker container image: `jobworker run` as a non-root user on the small .NET runtime image.
# Configure it through environment variables (Section__Key), e.g. Database__ConnectionString,
# RabbitMq__Host, RabbitMq__Password; appsettings.json holds only loopback development defaults.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src

# Restore first, from the project files alone, so the package layer is cached until they change.
COPY JobWorker.sln Directory.Build.props Directory.Packages.props ./
COPY Contracts/Contracts.csproj Contracts/
COPY Worker/Worker.csproj Worker/
RUN dotnet restore Worker/Worker.csproj

COPY appsettings.json ./
COPY Contracts/ Contracts/
COPY Worker/ Worker/
RUN dotnet publish Worker/Worker.csproj -c Release --no-restore -o /app

FROM mcr.microsoft.com/dotnet/runtime:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
ENV DOTNET_ENVIRONMENT=Production \
    DOTNET_gcServer=0
# The runtime image's built-in unprivileged user.
USER app
ENTRYPOINT ["dotnet", "/app/jobworker.dll"]
CMD ["run"]
