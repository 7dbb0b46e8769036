//! The outgoing half of a connection: a task that writes encoded packets in order,
//! coalescing what is queued into few socket writes and charging the latency model's
//! bandwidth for stream data.

use tokio::io::{AsyncWriteExt, BufWriter};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::mpsc;

use crate::latency::LatencyModel;

/// A frame for the writer task.
pub(crate) struct Frame {
    pub bytes: Vec<u8>,
    /// Stream payload bytes in the frame (what the link's bandwidth is charged for).
    pub payload: usize,
}

/// Writes frames in order, coalescing what is queued, charging the link's bandwidth.
/// Returns the socket half when every frame was written (`None` after a write error).
pub(crate) async fn write_frames(
    writer: OwnedWriteHalf,
    mut frames: mpsc::UnboundedReceiver<Frame>,
    latency: LatencyModel,
) -> Option<OwnedWriteHalf> {
    let mut writer = BufWriter::with_capacity(256 * 1024, writer);
    while let Some(mut frame) = frames.recv().await {
        loop {
            let delay = latency.transfer_time(frame.payload as u64);
            if !delay.is_zero() {
                writer.flush().await.ok()?;
                tokio::time::sleep(delay).await;
            }
            writer.write_all(&frame.bytes).await.ok()?;
            match frames.try_recv() {
                Ok(next) => frame = next,
                Err(_) => break,
            }
        }
        writer.flush().await.ok()?;
    }
    Some(writer.into_inner())
}
