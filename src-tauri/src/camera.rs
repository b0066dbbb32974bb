//! The camera in the window. WebKitGTK keeps the media stream off unless asked, and wry
//! answers no permission request, so the window would never see a camera: here the
//! stream is switched on and a request for the camera alone (no microphone) is
//! allowed; every other permission request is denied. With `DOORSTEP_CAMERA=mock` the
//! window gets WebKit's synthetic camera instead (end-to-end tests on a machine with
//! none).

/// Switches the camera on in `window`'s web view.
pub(crate) fn enable(window: &tauri::WebviewWindow, mock: bool) -> tauri::Result<()> {
    window.with_webview(move |webview| {
        #[cfg(target_os = "linux")]
        {
            use webkit2gtk::glib::prelude::Cast;
            use webkit2gtk::{
                PermissionRequestExt, SettingsExt, UserMediaPermissionRequest,
                UserMediaPermissionRequestExt, WebViewExt,
            };
            let view = webview.inner();
            if let Some(settings) = WebViewExt::settings(&view) {
                settings.set_enable_media_stream(true);
                settings.set_enable_mock_capture_devices(mock);
            }
            view.connect_permission_request(|_, request| {
                let camera_only = request
                    .downcast_ref::<UserMediaPermissionRequest>()
                    .is_some_and(|media| {
                        media.is_for_video_device() && !media.is_for_audio_device()
                    });
                if camera_only {
                    tracing::info!("the window asked for the camera: allowed");
                    request.allow();
                } else {
                    tracing::info!(
                        "the window asked for a permission other than the camera: denied"
                    );
                    request.deny();
                }
                true
            });
        }
        #[cfg(not(target_os = "linux"))]
        let _ = (webview, mock);
    })
}
