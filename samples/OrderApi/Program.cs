using JobWorker.Client;
using Npgsql;
using OrderApi;

// An ASP.NET minimal API that writes an order and its confirmation job in one PostgreSQL transaction: both commit, or
// neither. It connects to the workers' database, where its own orders table sits beside the ledger's tables.
var builder = WebApplication.CreateBuilder(args);

builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(
    builder.Configuration.GetConnectionString("Orders") ?? throw new InvalidOperationException("ConnectionStrings:Orders is required.")));
builder.Services.AddOptions<OrderOptions>().BindConfiguration(OrderOptions.Section).ValidateDataAnnotations().ValidateOnStart();
builder.Services.AddHostedService<OrdersTable>();

// IJobClient for the deployment in Jobs:QueueName, on the broker in RabbitMq:*, with a bus of its own (this app has none).
builder.Services.AddJobWorkerClient(builder.Configuration);
builder.Services.AddHealthChecks();

var app = builder.Build();
app.MapHealthChecks("/health/ready");
app.MapOrders();
app.Run();
