//! The machine every service is: commands in, pure decision, durable append, publish.
