<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="vi" sourcelanguage="en">
<context>
    <name>AdminWorkspace</name>
    <message>
        <source>Administration</source>
        <translation>Quản trị</translation>
    </message>
    <message>
        <source>Users</source>
        <translation>Người dùng</translation>
    </message>
    <message>
        <source>Vaccine lots</source>
        <translation>Lô vắc xin</translation>
    </message>
    <message>
        <source>Site hub</source>
        <translation>Máy chủ điểm</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>Cài đặt</translation>
    </message>
    <message>
        <source>Admin</source>
        <translation>Quản trị</translation>
    </message>
    <message>
        <source>Ctrl+Tab</source>
        <translation>Ctrl+Tab</translation>
    </message>
    <message>
        <source>Next tab (users, lots, site hub, settings)</source>
        <translation>Thẻ tiếp theo (người dùng, lô vắc xin, máy chủ điểm, cài đặt)</translation>
    </message>
    <message>
        <source>Enter</source>
        <translation>Enter</translation>
    </message>
    <message>
        <source>Save the form you are in</source>
        <translation>Lưu biểu mẫu đang nhập</translation>
    </message>
    <message>
        <source>Create user</source>
        <translation>Tạo người dùng</translation>
    </message>
    <message>
        <source>Activate / deactivate selected</source>
        <translation>Bật / tắt dòng đã chọn</translation>
    </message>
    <message>
        <source>New user</source>
        <translation>Người dùng mới</translation>
    </message>
    <message>
        <source>User name</source>
        <translation>Tên đăng nhập</translation>
    </message>
    <message>
        <source>Full name</source>
        <translation>Họ và tên</translation>
    </message>
    <message>
        <source>Role</source>
        <translation>Vai trò</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>Mật khẩu</translation>
    </message>
    <message>
        <source>User created.</source>
        <translation>Đã tạo người dùng.</translation>
    </message>
    <message>
        <source>User updated.</source>
        <translation>Đã cập nhật người dùng.</translation>
    </message>
    <message>
        <source>dd/mm/yyyy</source>
        <translation>ngày/tháng/năm</translation>
    </message>
    <message>
        <source>empty = today</source>
        <translation>trống = hôm nay</translation>
    </message>
    <message>
        <source>Add lot</source>
        <translation>Thêm lô</translation>
    </message>
    <message>
        <source>Lot received</source>
        <translation>Lô đã nhận</translation>
    </message>
    <message>
        <source>Vaccine</source>
        <translation>Vắc xin</translation>
    </message>
    <message>
        <source>Lot number</source>
        <translation>Số lô</translation>
    </message>
    <message>
        <source>Expiry</source>
        <translation>Hạn dùng</translation>
    </message>
    <message>
        <source>Received on</source>
        <translation>Ngày nhận</translation>
    </message>
    <message>
        <source>Doses received</source>
        <translation>Số liều nhận</translation>
    </message>
    <message>
        <source>Interval rules</source>
        <translation>Quy định khoảng cách giữa các mũi</translation>
    </message>
    <message>
        <source>A province&apos;s decision may shorten the gap between doses (Đồng Nai: AstraZeneca from 4 weeks). Set the same on every station of the site.</source>
        <translation>Quyết định của tỉnh có thể rút ngắn khoảng cách giữa các mũi (Đồng Nai: AstraZeneca từ 4 tuần). Đặt giống nhau trên mọi máy của điểm tiêm.</translation>
    </message>
    <message>
        <source>Lot saved.</source>
        <translation>Đã lưu lô.</translation>
    </message>
    <message>
        <source>Interval rules saved.</source>
        <translation>Đã lưu quy định khoảng cách.</translation>
    </message>
    <message>
        <source>min</source>
        <translation>phút</translation>
    </message>
    <message>
        <source>Save settings (Enter)</source>
        <translation>Lưu cài đặt (Enter)</translation>
    </message>
    <message>
        <source>A new language applies at once; the hub address is used by the next sync.</source>
        <translation>Ngôn ngữ mới có hiệu lực ngay; địa chỉ máy chủ được dùng từ lần đồng bộ sau.</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>Ngôn ngữ</translation>
    </message>
    <message>
        <source>Lock after no use for</source>
        <translation>Khóa màn hình sau khi không dùng</translation>
    </message>
    <message>
        <source>Hub address</source>
        <translation>Địa chỉ máy chủ</translation>
    </message>
    <message>
        <source>Settings saved.</source>
        <translation>Đã lưu cài đặt.</translation>
    </message>
</context>
<context>
    <name>AdverseEventDialog</name>
    <message>
        <source>Adverse event</source>
        <translation>Phản ứng sau tiêm</translation>
    </message>
    <message>
        <source>Adverse event after vaccination</source>
        <translation>Phản ứng sau tiêm chủng</translation>
    </message>
    <message>
        <source>What happened, what was done</source>
        <translation>Diễn biến và xử trí</translation>
    </message>
    <message>
        <source>Severity</source>
        <translation>Mức độ</translation>
    </message>
    <message>
        <source>Description</source>
        <translation>Mô tả</translation>
    </message>
    <message>
        <source>Onset (time today)</source>
        <translation>Thời điểm xuất hiện (giờ hôm nay)</translation>
    </message>
    <message>
        <source>Save (Ctrl+Enter)</source>
        <translation>Lưu (Ctrl+Enter)</translation>
    </message>
    <message>
        <source>Cancel (Esc)</source>
        <translation>Hủy (Esc)</translation>
    </message>
</context>
<context>
    <name>ClearedModel</name>
    <message>
        <source>No.</source>
        <translation>STT</translation>
    </message>
    <message>
        <source>Full name</source>
        <translation>Họ và tên</translation>
    </message>
    <message>
        <source>Born</source>
        <translation>Ngày sinh</translation>
    </message>
    <message>
        <source>ID</source>
        <translation>Giấy tờ</translation>
    </message>
</context>
<context>
    <name>CloseFormDialog</name>
    <message>
        <source>Keep editing (Esc)</source>
        <translation>Tiếp tục nhập (Esc)</translation>
    </message>
    <message>
        <source>Close, keep the input</source>
        <translation>Đóng, giữ nội dung đã nhập</translation>
    </message>
    <message>
        <source>Discard the input</source>
        <translation>Bỏ nội dung đã nhập</translation>
    </message>
</context>
<context>
    <name>ConfirmWarningsDialog</name>
    <message>
        <source>Please confirm</source>
        <translation>Xin xác nhận</translation>
    </message>
    <message>
        <source>Check before recording:</source>
        <translation>Kiểm tra trước khi ghi:</translation>
    </message>
    <message>
        <source>I have checked this and want to record anyway</source>
        <translation>Tôi đã kiểm tra và vẫn muốn ghi</translation>
    </message>
    <message>
        <source>Record anyway</source>
        <translation>Vẫn ghi</translation>
    </message>
    <message>
        <source>Cancel (Esc)</source>
        <translation>Hủy (Esc)</translation>
    </message>
</context>
<context>
    <name>DemoCommand</name>
    <message>
        <source>Demo mode is not part of this site build: a site laptop only talks to its real hub. To try Trạm Tiêm on throwaway demo data, run it from a source checkout: ./dev demo</source>
        <translation>Chế độ dùng thử không có trong bản cài đặt cho điểm tiêm: máy tính ở điểm tiêm chỉ kết nối với máy chủ thật của mình. Để dùng thử Trạm Tiêm trên dữ liệu mẫu (xóa khi đóng), hãy chạy từ mã nguồn: ./dev demo</translation>
    </message>
</context>
<context>
    <name>EarlyEndDialog</name>
    <message>
        <source>End observation early?</source>
        <translation>Kết thúc theo dõi sớm?</translation>
    </message>
    <message>
        <source>{left} of observation left: the person should stay until {until}.</source>
        <translation>Còn {left} theo dõi: người được tiêm nên ở lại đến {until}.</translation>
    </message>
    <message>
        <source>Why does the observation end now? (↑ ↓ or 1–4)</source>
        <translation>Vì sao kết thúc theo dõi lúc này? (↑ ↓ hoặc 1–4)</translation>
    </message>
    <message>
        <source>End observation early</source>
        <translation>Kết thúc theo dõi sớm</translation>
    </message>
    <message>
        <source>Keep observing (Esc)</source>
        <translation>Tiếp tục theo dõi (Esc)</translation>
    </message>
</context>
<context>
    <name>HelpOverlay</name>
    <message>
        <source>source checkout</source>
        <translation>bản mã nguồn</translation>
    </message>
    <message>
        <source>Trạm Tiêm {version} · commit {commit} · built {date}</source>
        <translation>Trạm Tiêm {version} · commit {commit} · đóng gói ngày {date}</translation>
    </message>
    <message>
        <source>Press F1 or Esc to close</source>
        <translation>Nhấn F1 hoặc Esc để đóng</translation>
    </message>
</context>
<context>
    <name>HistoryModel</name>
    <message>
        <source>Dose</source>
        <translation>Mũi</translation>
    </message>
    <message>
        <source>Vaccine</source>
        <translation>Vắc xin</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>Loại</translation>
    </message>
    <message>
        <source>Date</source>
        <translation>Ngày</translation>
    </message>
    <message>
        <source>Lot</source>
        <translation>Lô</translation>
    </message>
    <message>
        <source>Where</source>
        <translation>Nơi tiêm</translation>
    </message>
    <message>
        <source>here</source>
        <translation>tại đây</translation>
    </message>
    <message>
        <source>elsewhere</source>
        <translation>nơi khác</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Trạng thái</translation>
    </message>
    <message>
        <source>VOIDED: {reason}</source>
        <translation>ĐÃ VÔ HIỆU: {reason}</translation>
    </message>
</context>
<context>
    <name>HitsModel</name>
    <message>
        <source>Full name</source>
        <translation>Họ và tên</translation>
    </message>
    <message>
        <source>Born</source>
        <translation>Ngày sinh</translation>
    </message>
    <message>
        <source>ID</source>
        <translation>Giấy tờ</translation>
    </message>
    <message>
        <source>Phone</source>
        <translation>Điện thoại</translation>
    </message>
    <message>
        <source>Last dose</source>
        <translation>Mũi gần nhất</translation>
    </message>
    <message>
        <source>Today</source>
        <translation>Hôm nay</translation>
    </message>
    <message>
        <source>dose {n} {vaccine} · {day}</source>
        <translation>mũi {n} {vaccine} · {day}</translation>
    </message>
</context>
<context>
    <name>ImportIssuesModel</name>
    <message>
        <source>Row</source>
        <translation>Dòng</translation>
    </message>
    <message>
        <source>file</source>
        <translation>tệp</translation>
    </message>
    <message>
        <source>Result</source>
        <translation>Kết quả</translation>
    </message>
    <message>
        <source>Column</source>
        <translation>Cột</translation>
    </message>
    <message>
        <source>Problem</source>
        <translation>Vấn đề</translation>
    </message>
    <message>
        <source>left out</source>
        <translation>bị loại</translation>
    </message>
    <message>
        <source>already on the list</source>
        <translation>đã có trong danh sách</translation>
    </message>
    <message>
        <source>check</source>
        <translation>cần kiểm tra</translation>
    </message>
    <message>
        <source>Full name</source>
        <translation>Họ và tên</translation>
    </message>
    <message>
        <source>Date of birth</source>
        <translation>Ngày sinh</translation>
    </message>
    <message>
        <source>Sex</source>
        <translation>Giới tính</translation>
    </message>
    <message>
        <source>ID type</source>
        <translation>Loại giấy tờ</translation>
    </message>
    <message>
        <source>ID number</source>
        <translation>Số giấy tờ</translation>
    </message>
    <message>
        <source>Old ID number</source>
        <translation>Số CMND cũ</translation>
    </message>
    <message>
        <source>Phone</source>
        <translation>Số điện thoại</translation>
    </message>
    <message>
        <source>Priority group</source>
        <translation>Nhóm đối tượng</translation>
    </message>
    <message>
        <source>Province</source>
        <translation>Tỉnh/thành</translation>
    </message>
    <message>
        <source>Ward</source>
        <translation>Xã/phường</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>Địa chỉ</translation>
    </message>
    <message>
        <source>Occupation</source>
        <translation>Nghề nghiệp</translation>
    </message>
    <message>
        <source>Health insurance</source>
        <translation>Thẻ BHYT</translation>
    </message>
    <message>
        <source>File</source>
        <translation>Tệp</translation>
    </message>
</context>
<context>
    <name>Labels</name>
    <message>
        <source>Expected</source>
        <translation>Đã hẹn</translation>
    </message>
    <message>
        <source>Checked in</source>
        <translation>Đã đến</translation>
    </message>
    <message>
        <source>Cleared</source>
        <translation>Đủ điều kiện</translation>
    </message>
    <message>
        <source>Deferred</source>
        <translation>Hoãn tiêm</translation>
    </message>
    <message>
        <source>Vaccinated</source>
        <translation>Đã tiêm</translation>
    </message>
    <message>
        <source>Done</source>
        <translation>Xong</translation>
    </message>
    <message>
        <source>Volunteer</source>
        <translation>Tình nguyện viên</translation>
    </message>
    <message>
        <source>Clerk</source>
        <translation>Thư ký tiêm</translation>
    </message>
    <message>
        <source>Screening doctor</source>
        <translation>Bác sĩ khám sàng lọc</translation>
    </message>
    <message>
        <source>Supervisor</source>
        <translation>Giám sát</translation>
    </message>
    <message>
        <source>IT administrator</source>
        <translation>Quản trị CNTT</translation>
    </message>
    <message>
        <source>System</source>
        <translation>Hệ thống</translation>
    </message>
    <message>
        <source>primary</source>
        <translation>cơ bản</translation>
    </message>
    <message>
        <source>additional</source>
        <translation>bổ sung</translation>
    </message>
    <message>
        <source>booster</source>
        <translation>nhắc lại</translation>
    </message>
    <message>
        <source>Male</source>
        <translation>Nam</translation>
    </message>
    <message>
        <source>Female</source>
        <translation>Nữ</translation>
    </message>
    <message>
        <source>No reaction</source>
        <translation>Không phản ứng</translation>
    </message>
    <message>
        <source>Common reaction</source>
        <translation>Phản ứng thông thường</translation>
    </message>
    <message>
        <source>Serious reaction</source>
        <translation>Tai biến nặng</translation>
    </message>
    <message>
        <source>Other</source>
        <translation>Khác</translation>
    </message>
    <message>
        <source>CCCD (12 digits)</source>
        <translation>CCCD (12 số)</translation>
    </message>
    <message>
        <source>CMND (9 or 12 digits)</source>
        <translation>CMND (9 hoặc 12 số)</translation>
    </message>
    <message>
        <source>Passport</source>
        <translation>Hộ chiếu</translation>
    </message>
    <message>
        <source>No document</source>
        <translation>Không có giấy tờ</translation>
    </message>
    <message>
        <source>Left upper arm</source>
        <translation>Cánh tay trái</translation>
    </message>
    <message>
        <source>Right upper arm</source>
        <translation>Cánh tay phải</translation>
    </message>
    <message>
        <source>Left thigh</source>
        <translation>Đùi trái</translation>
    </message>
    <message>
        <source>Right thigh</source>
        <translation>Đùi phải</translation>
    </message>
    <message>
        <source>Walk-in</source>
        <translation>Đến trực tiếp</translation>
    </message>
    <message>
        <source>Pre-registered</source>
        <translation>Đăng ký trước</translation>
    </message>
    <message>
        <source>List</source>
        <translation>Danh sách</translation>
    </message>
    <message>
        <source>Line: ?</source>
        <translation>Đường truyền: ?</translation>
    </message>
    <message>
        <source>No hub set</source>
        <translation>Chưa đặt máy chủ</translation>
    </message>
    <message>
        <source>Online</source>
        <translation>Có mạng</translation>
    </message>
    <message>
        <source>Offline</source>
        <translation>Mất mạng</translation>
    </message>
    <message>
        <source>Syncing…</source>
        <translation>Đang đồng bộ…</translation>
    </message>
    <message>
        <source>Sync error</source>
        <translation>Lỗi đồng bộ</translation>
    </message>
    <message>
        <source>Hub certificate problem</source>
        <translation>Lỗi chứng chỉ máy chủ</translation>
    </message>
    <message>
        <source>Possible duplicate person</source>
        <translation>Có thể trùng người</translation>
    </message>
    <message>
        <source>Possible duplicate dose</source>
        <translation>Có thể trùng mũi tiêm</translation>
    </message>
    <message>
        <source>Conflicting edits</source>
        <translation>Sửa đổi xung đột</translation>
    </message>
    <message>
        <source>Edit after void</source>
        <translation>Sửa sau khi vô hiệu</translation>
    </message>
    <message>
        <source>Clock difference</source>
        <translation>Lệch đồng hồ</translation>
    </message>
    <message>
        <source>Merged person</source>
        <translation>Người đã gộp</translation>
    </message>
    <message>
        <source>Merge into one person</source>
        <translation>Gộp thành một người</translation>
    </message>
    <message>
        <source>Different people: keep both</source>
        <translation>Hai người khác nhau: giữ cả hai</translation>
    </message>
    <message>
        <source>Void one dose</source>
        <translation>Vô hiệu một mũi</translation>
    </message>
    <message>
        <source>Keep the current value</source>
        <translation>Giữ giá trị hiện tại</translation>
    </message>
    <message>
        <source>Take the other value</source>
        <translation>Lấy giá trị kia</translation>
    </message>
    <message>
        <source>Undo the merge</source>
        <translation>Tách lại</translation>
    </message>
    <message>
        <source>The doctor allowed it</source>
        <translation>Bác sĩ cho phép về</translation>
    </message>
    <message>
        <source>Left against advice</source>
        <translation>Tự ý ra về dù đã được dặn</translation>
    </message>
    <message>
        <source>Taken for medical care</source>
        <translation>Chuyển đi xử trí y tế</translation>
    </message>
    <message>
        <source>Other reason</source>
        <translation>Lý do khác</translation>
    </message>
    <message>
        <source>High</source>
        <translation>Cao</translation>
    </message>
    <message>
        <source>Low</source>
        <translation>Thấp</translation>
    </message>
    <message>
        <source>Registration</source>
        <translation>Đăng ký</translation>
    </message>
    <message>
        <source>Registration for a day</source>
        <translation>Đăng ký theo ngày</translation>
    </message>
    <message>
        <source>Edit of a person</source>
        <translation>Sửa thông tin người</translation>
    </message>
    <message>
        <source>Check-in</source>
        <translation>Tiếp đón</translation>
    </message>
    <message>
        <source>Screening</source>
        <translation>Khám sàng lọc</translation>
    </message>
    <message>
        <source>Dose</source>
        <translation>Mũi</translation>
    </message>
    <message>
        <source>Void of a dose</source>
        <translation>Vô hiệu mũi tiêm</translation>
    </message>
    <message>
        <source>End of observation</source>
        <translation>Kết thúc theo dõi</translation>
    </message>
    <message>
        <source>Adverse event</source>
        <translation>Phản ứng sau tiêm</translation>
    </message>
    <message>
        <source>Vaccine lot</source>
        <translation>Lô vắc xin</translation>
    </message>
    <message>
        <source>User</source>
        <translation>Người dùng</translation>
    </message>
    <message>
        <source>Review decision</source>
        <translation>Quyết định xử lý</translation>
    </message>
</context>
<context>
    <name>LoginPanel</name>
    <message>
        <source>User name</source>
        <translation>Tên đăng nhập</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>Mật khẩu</translation>
    </message>
    <message>
        <source>Log in (Enter)</source>
        <translation>Đăng nhập (Enter)</translation>
    </message>
</context>
<context>
    <name>LoginWindow</name>
    <message>
        <source>Trạm Tiêm — log in</source>
        <translation>Trạm Tiêm — đăng nhập</translation>
    </message>
    <message>
        <source>Trạm Tiêm</source>
        <translation>Trạm Tiêm</translation>
    </message>
    <message>
        <source>Vaccination station — works without the internet</source>
        <translation>Điểm tiêm chủng — làm việc cả khi không có mạng</translation>
    </message>
    <message>
        <source>Opening the station…</source>
        <translation>Đang mở dữ liệu trạm…</translation>
    </message>
    <message>
        <source>Site {site}</source>
        <translation>Điểm tiêm {site}</translation>
    </message>
    <message>
        <source>The station could not be opened</source>
        <translation>Không mở được dữ liệu trạm</translation>
    </message>
</context>
<context>
    <name>LotsModel</name>
    <message>
        <source>Vaccine</source>
        <translation>Vắc xin</translation>
    </message>
    <message>
        <source>Lot</source>
        <translation>Lô</translation>
    </message>
    <message>
        <source>Expiry</source>
        <translation>Hạn dùng</translation>
    </message>
    <message>
        <source>Received</source>
        <translation>Ngày nhận</translation>
    </message>
    <message>
        <source>Doses received</source>
        <translation>Số liều nhận</translation>
    </message>
    <message>
        <source>Used</source>
        <translation>Đã dùng</translation>
    </message>
    <message>
        <source>Active</source>
        <translation>Đang dùng</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>có</translation>
    </message>
    <message>
        <source>no</source>
        <translation>không</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Trạm Tiêm — {site}</source>
        <translation>Trạm Tiêm — {site}</translation>
    </message>
    <message>
        <source>Help (F1)</source>
        <translation>Trợ giúp (F1)</translation>
    </message>
    <message>
        <source>Lock (Ctrl+L)</source>
        <translation>Khóa (Ctrl+L)</translation>
    </message>
    <message>
        <source>Log out</source>
        <translation>Đăng xuất</translation>
    </message>
    <message>
        <source>Locked</source>
        <translation>Đã khóa</translation>
    </message>
    <message>
        <source>The screen locked after a pause. Enter your password to continue, or log in as another user.</source>
        <translation>Màn hình tự khóa khi không dùng. Nhập mật khẩu để tiếp tục, hoặc đăng nhập bằng người dùng khác.</translation>
    </message>
    <message>
        <source>Your role does not use this screen.</source>
        <translation>Vai trò của bạn không dùng màn hình này.</translation>
    </message>
    <message>
        <source>Card scanned, but your role has no reception screen.</source>
        <translation>Đã quét thẻ, nhưng vai trò của bạn không có màn hình tiếp đón.</translation>
    </message>
    <message>
        <source>F1</source>
        <translation>F1</translation>
    </message>
    <message>
        <source>Show or hide this help</source>
        <translation>Hiện / ẩn trợ giúp này</translation>
    </message>
    <message>
        <source>Ctrl+F</source>
        <translation>Ctrl+F</translation>
    </message>
    <message>
        <source>Search a person (reception)</source>
        <translation>Tìm người (tiếp đón)</translation>
    </message>
    <message>
        <source>Ctrl+L</source>
        <translation>Ctrl+L</translation>
    </message>
    <message>
        <source>Lock the screen</source>
        <translation>Khóa màn hình</translation>
    </message>
    <message>
        <source>Tab / Shift+Tab</source>
        <translation>Tab / Shift+Tab</translation>
    </message>
    <message>
        <source>Next / previous field</source>
        <translation>Ô tiếp theo / ô trước</translation>
    </message>
    <message>
        <source>Everywhere</source>
        <translation>Mọi màn hình</translation>
    </message>
    <message>
        <source>Keyboard shortcuts</source>
        <translation>Phím tắt</translation>
    </message>
    <message>
        <source>The screen is locked. Enter your password to continue, or log in as another user.</source>
        <translation>Màn hình đã khóa. Nhập mật khẩu để làm tiếp, hoặc đăng nhập bằng người dùng khác.</translation>
    </message>
</context>
<context>
    <name>Messages</name>
    <message>
        <source>Enter the full name.</source>
        <translation>Nhập họ và tên.</translation>
    </message>
    <message>
        <source>The name is too long (at most {max} characters).</source>
        <translation>Tên quá dài (tối đa {max} ký tự).</translation>
    </message>
    <message>
        <source>The name contains characters that are not letters.</source>
        <translation>Tên có ký tự không phải chữ cái.</translation>
    </message>
    <message>
        <source>The name is too short.</source>
        <translation>Tên quá ngắn.</translation>
    </message>
    <message>
        <source>Enter the date (dd/mm/yyyy).</source>
        <translation>Nhập ngày (ngày/tháng/năm).</translation>
    </message>
    <message>
        <source>Write the date as dd/mm/yyyy (or the year alone for a birth date).</source>
        <translation>Ghi ngày theo dạng ngày/tháng/năm (ngày sinh có thể chỉ ghi năm).</translation>
    </message>
    <message>
        <source>This date does not exist.</source>
        <translation>Ngày này không có thật.</translation>
    </message>
    <message>
        <source>The date is in the future.</source>
        <translation>Ngày ở tương lai.</translation>
    </message>
    <message>
        <source>The year must be {min_year} or later.</source>
        <translation>Năm phải từ {min_year} trở về sau.</translation>
    </message>
    <message>
        <source>Choose the sex.</source>
        <translation>Chọn giới tính.</translation>
    </message>
    <message>
        <source>Choose male or female.</source>
        <translation>Chọn Nam hoặc Nữ.</translation>
    </message>
    <message>
        <source>Enter the ID number (or choose “no document”).</source>
        <translation>Nhập số giấy tờ (hoặc chọn “Không có giấy tờ”).</translation>
    </message>
    <message>
        <source>A CCCD number has 12 digits (you typed {length}).</source>
        <translation>Số CCCD có 12 chữ số (đã nhập {length}).</translation>
    </message>
    <message>
        <source>A passport number has 6 to 12 letters and digits.</source>
        <translation>Số hộ chiếu gồm 6 đến 12 chữ và số.</translation>
    </message>
    <message>
        <source>“No document” is chosen: leave the number empty.</source>
        <translation>Đã chọn “Không có giấy tờ”: để trống số.</translation>
    </message>
    <message>
        <source>The first 3 digits are not a known province code: check the number.</source>
        <translation>3 số đầu không phải mã tỉnh: kiểm tra lại số.</translation>
    </message>
    <message>
        <source>The ID number does not match the century of birth: check both.</source>
        <translation>Số giấy tờ không khớp thế kỷ sinh: kiểm tra cả hai.</translation>
    </message>
    <message>
        <source>The ID number does not match the year of birth: check both.</source>
        <translation>Số giấy tờ không khớp năm sinh: kiểm tra cả hai.</translation>
    </message>
    <message>
        <source>The ID number does not match the sex: check both.</source>
        <translation>Số giấy tờ không khớp giới tính: kiểm tra cả hai.</translation>
    </message>
    <message>
        <source>Choose the kind of document.</source>
        <translation>Chọn loại giấy tờ.</translation>
    </message>
    <message>
        <source>Enter a mobile phone number.</source>
        <translation>Nhập số điện thoại di động.</translation>
    </message>
    <message>
        <source>A mobile number has 10 digits and starts with 03, 05, 07, 08 or 09.</source>
        <translation>Số di động có 10 chữ số, bắt đầu bằng 03, 05, 07, 08 hoặc 09.</translation>
    </message>
    <message>
        <source>The phone number is too long.</source>
        <translation>Số điện thoại quá dài.</translation>
    </message>
    <message>
        <source>Old 11-digit number converted ({from} → {to}).</source>
        <translation>Đã đổi số 11 chữ số cũ ({from} → {to}).</translation>
    </message>
    <message>
        <source>Unusual prefix {prefix}: check the number.</source>
        <translation>Đầu số {prefix} lạ: kiểm tra lại số.</translation>
    </message>
    <message>
        <source>The health insurance number is not valid.</source>
        <translation>Số thẻ BHYT không hợp lệ.</translation>
    </message>
    <message>
        <source>Choose the priority group.</source>
        <translation>Chọn nhóm ưu tiên.</translation>
    </message>
    <message>
        <source>Choose the priority group from the list.</source>
        <translation>Chọn nhóm ưu tiên trong danh sách.</translation>
    </message>
    <message>
        <source>Priority groups are numbered {min} to {max}.</source>
        <translation>Nhóm ưu tiên được đánh số từ {min} đến {max}.</translation>
    </message>
    <message>
        <source>Choose the province from the list.</source>
        <translation>Chọn tỉnh/thành trong danh sách.</translation>
    </message>
    <message>
        <source>Choose the ward from the list.</source>
        <translation>Chọn phường/xã trong danh sách.</translation>
    </message>
    <message>
        <source>This ward is not in the chosen province.</source>
        <translation>Phường/xã này không thuộc tỉnh/thành đã chọn.</translation>
    </message>
    <message>
        <source>This is not a CCCD QR code (too few fields). Scan again.</source>
        <translation>Đây không phải mã QR CCCD (thiếu trường). Quét lại.</translation>
    </message>
    <message>
        <source>The scanned text is too long to be a CCCD QR code.</source>
        <translation>Nội dung quét quá dài, không phải mã QR CCCD.</translation>
    </message>
    <message>
        <source>The QR code has no valid 12-digit ID number. Scan again.</source>
        <translation>Mã QR không có số CCCD 12 chữ số hợp lệ. Quét lại.</translation>
    </message>
    <message>
        <source>The name in the QR code could not be read. Scan again or type it.</source>
        <translation>Không đọc được họ tên trong mã QR. Quét lại hoặc nhập tay.</translation>
    </message>
    <message>
        <source>The date of birth in the QR code could not be read.</source>
        <translation>Không đọc được ngày sinh trong mã QR.</translation>
    </message>
    <message>
        <source>The sex in the QR code could not be read.</source>
        <translation>Không đọc được giới tính trong mã QR.</translation>
    </message>
    <message>
        <source>The old ID number in the QR code was ignored.</source>
        <translation>Đã bỏ qua số CMND cũ trong mã QR.</translation>
    </message>
    <message>
        <source>The issue date in the QR code was ignored.</source>
        <translation>Đã bỏ qua ngày cấp trong mã QR.</translation>
    </message>
    <message>
        <source>A person with this ID number is already registered.</source>
        <translation>Đã có người đăng ký với số giấy tờ này.</translation>
    </message>
    <message>
        <source>This person was not found.</source>
        <translation>Không tìm thấy người này.</translation>
    </message>
    <message>
        <source>This record was merged or retired.</source>
        <translation>Hồ sơ này đã được gộp hoặc ngừng dùng.</translation>
    </message>
    <message>
        <source>Nothing was changed.</source>
        <translation>Không có gì thay đổi.</translation>
    </message>
    <message>
        <source>This field cannot be changed here.</source>
        <translation>Không sửa được trường này ở đây.</translation>
    </message>
    <message>
        <source>This person is already on today&apos;s list.</source>
        <translation>Người này đã có trong danh sách hôm nay.</translation>
    </message>
    <message>
        <source>The registration was not found.</source>
        <translation>Không tìm thấy đăng ký.</translation>
    </message>
    <message>
        <source>This registration belongs to another site.</source>
        <translation>Đăng ký này thuộc điểm tiêm khác.</translation>
    </message>
    <message>
        <source>This registration is for another day.</source>
        <translation>Đăng ký này cho ngày khác.</translation>
    </message>
    <message>
        <source>Already checked in.</source>
        <translation>Đã tiếp đón rồi.</translation>
    </message>
    <message>
        <source>The day is in the past.</source>
        <translation>Ngày đã qua.</translation>
    </message>
    <message>
        <source>Check the person in before screening.</source>
        <translation>Tiếp đón người này trước khi khám sàng lọc.</translation>
    </message>
    <message>
        <source>This person was already vaccinated today.</source>
        <translation>Người này đã tiêm hôm nay.</translation>
    </message>
    <message>
        <source>Answer this question.</source>
        <translation>Trả lời câu hỏi này.</translation>
    </message>
    <message>
        <source>Answer yes or no.</source>
        <translation>Trả lời Có hoặc Không.</translation>
    </message>
    <message>
        <source>Unknown question.</source>
        <translation>Câu hỏi không có trong phiếu.</translation>
    </message>
    <message>
        <source>Enter a number.</source>
        <translation>Nhập một số.</translation>
    </message>
    <message>
        <source>Check the value (expected {min} to {max}).</source>
        <translation>Kiểm tra lại giá trị (thường từ {min} đến {max}).</translation>
    </message>
    <message>
        <source>Choose the outcome.</source>
        <translation>Chọn kết luận.</translation>
    </message>
    <message>
        <source>Unknown screening form.</source>
        <translation>Phiếu sàng lọc không có trong danh mục.</translation>
    </message>
    <message>
        <source>Screening is required before the dose.</source>
        <translation>Cần khám sàng lọc trước khi tiêm.</translation>
    </message>
    <message>
        <source>The screening did not clear this person for vaccination.</source>
        <translation>Kết quả sàng lọc không cho phép tiêm người này.</translation>
    </message>
    <message>
        <source>Only {days} days since the last dose (minimum {min_days}).</source>
        <translation>Mới {days} ngày từ mũi trước (tối thiểu {min_days}).</translation>
    </message>
    <message>
        <source>{days} days since the last dose (recommended at most {max_days}).</source>
        <translation>Đã {days} ngày từ mũi trước (khuyến cáo tối đa {max_days}).</translation>
    </message>
    <message>
        <source>A CMND number has 9 or 12 digits (you typed {length}).</source>
        <translation>Số CMND có 9 hoặc 12 chữ số (đã nhập {length}).</translation>
    </message>
    <message>
        <source>A landline: it is kept, but it cannot receive an SMS. Add a mobile number if the person has one.</source>
        <translation>Số máy bàn: vẫn được lưu nhưng không nhận được tin nhắn. Thêm số di động nếu người dân có.</translation>
    </message>
    <message>
        <source>This question does not apply to this person.</source>
        <translation>Câu hỏi này không áp dụng cho người này.</translation>
    </message>
    <message>
        <source>No screening form covers this person&apos;s age today (COVID-19 forms start at age 5).</source>
        <translation>Hôm nay không có phiếu sàng lọc cho độ tuổi này (phiếu COVID-19 từ 5 tuổi).</translation>
    </message>
    <message>
        <source>This screening form is not in use today.</source>
        <translation>Phiếu sàng lọc này không còn (hoặc chưa) áp dụng hôm nay.</translation>
    </message>
    <message>
        <source>This screening form is for other ages.</source>
        <translation>Phiếu sàng lọc này dành cho độ tuổi khác.</translation>
    </message>
    <message>
        <source>No rule allows this vaccine after {series_vaccine} on this day, at this age.</source>
        <translation>Không có quy định cho phép tiêm vắc xin này sau {series_vaccine} vào ngày này, ở độ tuổi này.</translation>
    </message>
    <message>
        <source>Another vaccine after {series_vaccine} is allowed only when {series_vaccine} is not available: confirm it is not.</source>
        <translation>Chỉ được tiêm vắc xin khác sau {series_vaccine} khi không có {series_vaccine}: xác nhận là không có.</translation>
    </message>
    <message>
        <source>{days} days since the last dose: allowed here, but shorter than the recommended {recommended_days}.</source>
        <translation>{days} ngày kể từ mũi trước: được phép tại đây, nhưng ngắn hơn khuyến cáo {recommended_days} ngày.</translation>
    </message>
    <message>
        <source>This vaccine is for people aged {min_age} and over; this person is younger.</source>
        <translation>Vắc xin này dành cho người từ {min_age} tuổi; người này nhỏ tuổi hơn.</translation>
    </message>
    <message>
        <source>This vaccine is for people up to age {max_age}; this person is older.</source>
        <translation>Vắc xin này dành cho người đến {max_age} tuổi; người này lớn tuổi hơn.</translation>
    </message>
    <message>
        <source>Only the birth year is known: check that the person&apos;s age fits this vaccine.</source>
        <translation>Chỉ biết năm sinh: kiểm tra tuổi của người này có phù hợp với vắc xin không.</translation>
    </message>
    <message>
        <source>Contraindicated by today&apos;s screening: {condition}.</source>
        <translation>Chống chỉ định theo khám sàng lọc hôm nay: {condition}.</translation>
    </message>
    <message>
        <source>This vaccine was not in use before {in_use_from}: check the date.</source>
        <translation>Vắc xin này chưa được sử dụng trước {in_use_from}: kiểm tra lại ngày.</translation>
    </message>
    <message>
        <source>The date is before the person&apos;s birth.</source>
        <translation>Ngày này trước ngày sinh của người này.</translation>
    </message>
    <message>
        <source>Only a supervisor can let this dose through, with a reason.</source>
        <translation>Chỉ giám sát mới được cho tiêm mũi này, kèm lý do.</translation>
    </message>
    <message>
        <source>Unknown interval profile.</source>
        <translation>Không có quy định khoảng cách này.</translation>
    </message>
    <message>
        <source>Dose number differs from the history (expected dose {expected}).</source>
        <translation>Số mũi khác với lịch sử (lẽ ra là mũi {expected}).</translation>
    </message>
    <message>
        <source>This dose number is not possible.</source>
        <translation>Số mũi này không hợp lệ.</translation>
    </message>
    <message>
        <source>Unexpected kind of dose for this history.</source>
        <translation>Loại mũi không phù hợp với lịch sử tiêm.</translation>
    </message>
    <message>
        <source>A dose was already given on this day.</source>
        <translation>Đã có một mũi tiêm trong ngày này.</translation>
    </message>
    <message>
        <source>Another desk (…{desk}) already gave this person {vaccine} today at {given_at}. Nothing was saved: check with that desk before giving a dose.</source>
        <translation>Một bàn tiêm khác (…{desk}) đã tiêm {vaccine} cho người này hôm nay lúc {given_at}. Chưa lưu gì: hãy hỏi lại bàn đó trước khi tiêm.</translation>
    </message>
    <message>
        <source>Choose primary, additional or booster.</source>
        <translation>Chọn mũi cơ bản, bổ sung hoặc nhắc lại.</translation>
    </message>
    <message>
        <source>Unknown vaccine.</source>
        <translation>Vắc xin không có trong danh mục.</translation>
    </message>
    <message>
        <source>The dose was not found.</source>
        <translation>Không tìm thấy mũi tiêm.</translation>
    </message>
    <message>
        <source>This dose is already voided.</source>
        <translation>Mũi tiêm này đã bị vô hiệu.</translation>
    </message>
    <message>
        <source>This dose was voided.</source>
        <translation>Mũi tiêm này đã bị vô hiệu.</translation>
    </message>
    <message>
        <source>The observation of this dose is already finished.</source>
        <translation>Đã kết thúc theo dõi cho mũi tiêm này.</translation>
    </message>
    <message>
        <source>{minutes_left} min of observation left: choose why it ends early.</source>
        <translation>Còn {minutes_left} phút theo dõi: chọn lý do kết thúc sớm.</translation>
    </message>
    <message>
        <source>Choose a reason from the list.</source>
        <translation>Chọn một lý do trong danh sách.</translation>
    </message>
    <message>
        <source>The time of the dose is not valid.</source>
        <translation>Giờ tiêm không hợp lệ.</translation>
    </message>
    <message>
        <source>The time of the dose is in the future.</source>
        <translation>Giờ tiêm ở tương lai.</translation>
    </message>
    <message>
        <source>The time of the dose is before {build_date}: check the computer&apos;s clock.</source>
        <translation>Giờ tiêm trước {build_date}: kiểm tra đồng hồ máy tính.</translation>
    </message>
    <message>
        <source>The dose is entered on a later day.</source>
        <translation>Mũi tiêm được nhập vào ngày sau.</translation>
    </message>
    <message>
        <source>Choose the injection site.</source>
        <translation>Chọn vị trí tiêm.</translation>
    </message>
    <message>
        <source>Choose the vaccine lot for this session first (F8).</source>
        <translation>Chọn lô vắc xin của buổi tiêm trước (F8).</translation>
    </message>
    <message>
        <source>The lot was not found at this site.</source>
        <translation>Không có lô này tại điểm tiêm.</translation>
    </message>
    <message>
        <source>This lot is not active.</source>
        <translation>Lô này đang ngừng dùng.</translation>
    </message>
    <message>
        <source>This lot has expired ({expiry}).</source>
        <translation>Lô đã hết hạn ({expiry}).</translation>
    </message>
    <message>
        <source>This lot expires soon ({expiry}).</source>
        <translation>Lô sắp hết hạn ({expiry}).</translation>
    </message>
    <message>
        <source>This lot is already registered.</source>
        <translation>Lô này đã được khai báo.</translation>
    </message>
    <message>
        <source>The vaccine does not match the lot.</source>
        <translation>Vắc xin không khớp với lô.</translation>
    </message>
    <message>
        <source>Choose the vaccine.</source>
        <translation>Chọn vắc xin.</translation>
    </message>
    <message>
        <source>This product comes from the vials of {lot_product}: register the lot as {lot_product}.</source>
        <translation>Sản phẩm này lấy từ lọ {lot_product}: nhập lô dưới tên {lot_product}.</translation>
    </message>
    <message>
        <source>Enter the lot number.</source>
        <translation>Nhập số lô.</translation>
    </message>
    <message>
        <source>The lot number is too long (at most {max}).</source>
        <translation>Số lô quá dài (tối đa {max}).</translation>
    </message>
    <message>
        <source>Use letters, digits, “.”, “/” or “-” only.</source>
        <translation>Chỉ dùng chữ, số, “.”, “/” hoặc “-”.</translation>
    </message>
    <message>
        <source>Enter the number of doses received.</source>
        <translation>Nhập số liều đã nhận.</translation>
    </message>
    <message>
        <source>Enter a whole number.</source>
        <translation>Nhập số nguyên.</translation>
    </message>
    <message>
        <source>Enter a number from {min} to {max}.</source>
        <translation>Nhập số từ {min} đến {max}.</translation>
    </message>
    <message>
        <source>Choose the severity.</source>
        <translation>Chọn mức độ.</translation>
    </message>
    <message>
        <source>Write the time as HH:MM.</source>
        <translation>Ghi giờ theo dạng GG:PP.</translation>
    </message>
    <message>
        <source>The onset is in the future.</source>
        <translation>Thời điểm xuất hiện ở tương lai.</translation>
    </message>
    <message>
        <source>The onset is before the dose.</source>
        <translation>Thời điểm xuất hiện trước giờ tiêm.</translation>
    </message>
    <message>
        <source>Wrong user name or password.</source>
        <translation>Sai tên đăng nhập hoặc mật khẩu.</translation>
    </message>
    <message>
        <source>Too many attempts: wait {seconds} seconds.</source>
        <translation>Thử quá nhiều lần: chờ {seconds} giây.</translation>
    </message>
    <message>
        <source>Enter a user name.</source>
        <translation>Nhập tên đăng nhập.</translation>
    </message>
    <message>
        <source>3–32 lower-case letters, digits, “.”, “_” or “-”.</source>
        <translation>3–32 ký tự: chữ thường không dấu, số, “.”, “_” hoặc “-”.</translation>
    </message>
    <message>
        <source>This user name is taken.</source>
        <translation>Tên đăng nhập đã có người dùng.</translation>
    </message>
    <message>
        <source>Enter a password.</source>
        <translation>Nhập mật khẩu.</translation>
    </message>
    <message>
        <source>At least {min} characters.</source>
        <translation>Ít nhất {min} ký tự.</translation>
    </message>
    <message>
        <source>At most {max} characters.</source>
        <translation>Tối đa {max} ký tự.</translation>
    </message>
    <message>
        <source>The current password is wrong.</source>
        <translation>Mật khẩu hiện tại không đúng.</translation>
    </message>
    <message>
        <source>Choose a role.</source>
        <translation>Chọn vai trò.</translation>
    </message>
    <message>
        <source>The user was not found.</source>
        <translation>Không tìm thấy người dùng.</translation>
    </message>
    <message>
        <source>You cannot deactivate yourself.</source>
        <translation>Bạn không thể tự khóa tài khoản của mình.</translation>
    </message>
    <message>
        <source>Your role may not do this.</source>
        <translation>Vai trò của bạn không được làm việc này.</translation>
    </message>
    <message>
        <source>The computer&apos;s date is before {build_date}: set the clock.</source>
        <translation>Ngày của máy tính trước {build_date}: hãy chỉnh đồng hồ.</translation>
    </message>
    <message>
        <source>The computer&apos;s clock went back {minutes} minutes: check it.</source>
        <translation>Đồng hồ máy tính bị lùi {minutes} phút: hãy kiểm tra.</translation>
    </message>
    <message>
        <source>The computer&apos;s clock differs from the hub by {minutes} minutes.</source>
        <translation>Đồng hồ máy tính lệch {minutes} phút so với máy chủ.</translation>
    </message>
    <message>
        <source>This computer is not set up as a station yet (run “tramtiem init” or “tramtiem demo”).</source>
        <translation>Máy này chưa được cài làm trạm (chạy “tramtiem init” hoặc “tramtiem demo”).</translation>
    </message>
    <message>
        <source>The station database file is missing.</source>
        <translation>Thiếu tệp cơ sở dữ liệu của trạm.</translation>
    </message>
    <message>
        <source>The station&apos;s settings file is damaged.</source>
        <translation>Tệp thông tin của trạm bị hỏng.</translation>
    </message>
    <message>
        <source>The system keyring is not available.</source>
        <translation>Không dùng được kho khóa của hệ thống.</translation>
    </message>
    <message>
        <source>The database key is missing from the keyring (restore it with the recovery code).</source>
        <translation>Kho khóa không có khóa của cơ sở dữ liệu (khôi phục bằng mã khôi phục).</translation>
    </message>
    <message>
        <source>The database key does not open this database.</source>
        <translation>Khóa không mở được cơ sở dữ liệu này.</translation>
    </message>
    <message>
        <source>The database was written by a newer version of Trạm Tiêm.</source>
        <translation>Cơ sở dữ liệu được ghi bởi phiên bản Trạm Tiêm mới hơn.</translation>
    </message>
    <message>
        <source>The database needs an upgrade.</source>
        <translation>Cơ sở dữ liệu cần được nâng cấp.</translation>
    </message>
    <message>
        <source>Choose a language.</source>
        <translation>Chọn ngôn ngữ.</translation>
    </message>
    <message>
        <source>Between 1 and 120 minutes.</source>
        <translation>Từ 1 đến 120 phút.</translation>
    </message>
    <message>
        <source>Write the address as http://host:port or https://host.</source>
        <translation>Ghi địa chỉ dạng http://máy:cổng hoặc https://máy.</translation>
    </message>
    <message>
        <source>Refused by the hub.</source>
        <translation>Máy chủ từ chối.</translation>
    </message>
    <message>
        <source>This concerns another site&apos;s records.</source>
        <translation>Việc này thuộc hồ sơ của điểm tiêm khác.</translation>
    </message>
    <message>
        <source>The hub does not know this user at this site.</source>
        <translation>Máy chủ không có người dùng này tại điểm tiêm này.</translation>
    </message>
    <message>
        <source>Recorded by a user who had been deactivated.</source>
        <translation>Được nhập bởi người dùng đã bị khoá tài khoản.</translation>
    </message>
    <message>
        <source>This user&apos;s role may not do this.</source>
        <translation>Vai trò của người dùng này không được làm việc này.</translation>
    </message>
    <message>
        <source>The staff member named does not match the user who recorded it.</source>
        <translation>Nhân viên được ghi không khớp với người dùng đã nhập.</translation>
    </message>
    <message>
        <source>The hub refused a value of this record.</source>
        <translation>Máy chủ từ chối một giá trị của bản ghi này.</translation>
    </message>
    <message>
        <source>The hub does not know this lot.</source>
        <translation>Máy chủ không có lô vắc xin này.</translation>
    </message>
    <message>
        <source>The lot is of another vaccine.</source>
        <translation>Lô này thuộc loại vắc xin khác.</translation>
    </message>
    <message>
        <source>Too many look-ups from this station; try again in a few minutes.</source>
        <translation>Máy này tra cứu quá nhiều lần; vui lòng thử lại sau vài phút.</translation>
    </message>
    <message>
        <source>The hub is busy; it will be tried again.</source>
        <translation>Máy chủ đang bận; sẽ tự thử lại.</translation>
    </message>
    <message>
        <source>This person is already at the hub.</source>
        <translation>Người này đã có trên máy chủ.</translation>
    </message>
    <message>
        <source>The hub does not know this person.</source>
        <translation>Máy chủ không có người này.</translation>
    </message>
    <message>
        <source>The hub does not know this registration.</source>
        <translation>Máy chủ không có lượt đăng ký này.</translation>
    </message>
    <message>
        <source>This screening is already at the hub.</source>
        <translation>Lượt khám sàng lọc này đã có trên máy chủ.</translation>
    </message>
    <message>
        <source>This dose is already at the hub.</source>
        <translation>Mũi tiêm này đã có trên máy chủ.</translation>
    </message>
    <message>
        <source>The hub does not know this dose.</source>
        <translation>Máy chủ không có mũi tiêm này.</translation>
    </message>
    <message>
        <source>This reaction is already at the hub.</source>
        <translation>Phản ứng sau tiêm này đã có trên máy chủ.</translation>
    </message>
    <message>
        <source>The hub does not know the dose this reaction is recorded for.</source>
        <translation>Máy chủ không có mũi tiêm mà phản ứng này được ghi cho.</translation>
    </message>
    <message>
        <source>The hub does not know this review item.</source>
        <translation>Máy chủ không có mục cần xem xét này.</translation>
    </message>
    <message>
        <source>This review item changed in the meantime; look at it again.</source>
        <translation>Mục cần xem xét này đã thay đổi; hãy xem lại.</translation>
    </message>
    <message>
        <source>This decision is missing a value it needs.</source>
        <translation>Quyết định này thiếu thông tin cần thiết.</translation>
    </message>
    <message>
        <source>The record does not match its own id (a fault in this station&apos;s software).</source>
        <translation>Bản ghi không khớp với mã của nó (lỗi phần mềm của máy trạm).</translation>
    </message>
    <message>
        <source>Another station already sent a change with this id.</source>
        <translation>Một máy trạm khác đã gửi một thay đổi có mã này.</translation>
    </message>
    <message>
        <source>The card was not read: the Vietnamese typing program (Unikey or EVKey) changed what the scanner typed. Switch it to English: click its icon by the clock until it shows E (or press its switch keys, Ctrl+Shift or Alt+Z), then scan the card again.</source>
        <translation>Chưa đọc được thẻ: chương trình gõ tiếng Việt (Unikey hoặc EVKey) đã sửa chữ máy quét gõ vào. Hãy chuyển sang tiếng Anh: bấm biểu tượng cạnh đồng hồ cho đến khi hiện chữ E (hoặc nhấn phím chuyển, Ctrl+Shift hay Alt+Z), rồi quét lại thẻ.</translation>
    </message>
    <message>
        <source>The hub&apos;s certificate is issued by an authority this computer does not trust (a private CA, or an antivirus that scans HTTPS). Nothing is lost: records wait here. IT staff: install the CA certificate in Windows (Trusted Root Certification Authorities), or set TRAMTIEM_CA_FILE to a copy of it; see the IT guide.</source>
        <translation>Chứng chỉ của máy chủ do một tổ chức mà máy tính này không tin cậy cấp (CA riêng, hoặc phần mềm diệt virus quét HTTPS). Không mất dữ liệu: hồ sơ vẫn chờ ở máy này. Cán bộ IT: cài chứng chỉ CA vào Windows (Trusted Root Certification Authorities), hoặc đặt TRAMTIEM_CA_FILE trỏ tới một bản sao của nó; xem hướng dẫn IT.</translation>
    </message>
    <message>
        <source>The hub&apos;s certificate has expired, or this computer&apos;s date is wrong. Nothing is lost: records wait here. Check the clock, then ask the hub&apos;s administrator to renew the certificate.</source>
        <translation>Chứng chỉ của máy chủ đã hết hạn, hoặc ngày giờ của máy tính này sai. Không mất dữ liệu: hồ sơ vẫn chờ ở máy này. Kiểm tra đồng hồ, rồi đề nghị quản trị máy chủ gia hạn chứng chỉ.</translation>
    </message>
    <message>
        <source>The hub&apos;s certificate is for another name than the address this station uses. Nothing is lost: records wait here. IT staff: enroll with the name in the certificate.</source>
        <translation>Chứng chỉ của máy chủ cấp cho một tên khác với địa chỉ máy này đang dùng. Không mất dữ liệu: hồ sơ vẫn chờ ở máy này. Cán bộ IT: đăng ký máy với đúng tên ghi trong chứng chỉ.</translation>
    </message>
    <message>
        <source>The secure connection to the hub failed. Nothing is lost: records wait here. IT staff: check the hub address (https://) and any proxy or antivirus in between.</source>
        <translation>Kết nối bảo mật tới máy chủ không thành công. Không mất dữ liệu: hồ sơ vẫn chờ ở máy này. Cán bộ IT: kiểm tra địa chỉ máy chủ (https://) và proxy hay phần mềm diệt virus ở giữa.</translation>
    </message>
    <message>
        <source>This is not your site&apos;s hub: its certificate is not the one the province issued for this site. Nothing was sent to it and nothing is lost: records wait here. IT staff: check the site hub&apos;s address.</source>
        <translation>Đây không phải máy chủ điểm tiêm của điểm này: chứng chỉ của nó không phải chứng chỉ do tỉnh cấp cho điểm này. Không gửi gì tới máy đó và không mất dữ liệu: hồ sơ vẫn chờ ở máy này. Cán bộ IT: kiểm tra địa chỉ máy chủ điểm tiêm.</translation>
    </message>
    <message>
        <source>The province has revoked this site hub&apos;s certificate (a site hub that was replaced, lost or stolen). Nothing was sent to it and nothing is lost: records go by the province link. IT staff: turn that machine off, or set up the new site hub.</source>
        <translation>Tỉnh đã thu hồi chứng chỉ của máy chủ điểm tiêm này (máy đã được thay, bị mất hoặc bị lấy cắp). Không gửi gì tới máy đó và không mất dữ liệu: hồ sơ được gửi qua đường truyền lên tỉnh. Cán bộ IT: tắt máy đó, hoặc cài đặt máy chủ điểm tiêm mới.</translation>
    </message>
    <message>
        <source>No site hub of this site answered on the LAN. Nothing is lost: records wait here and go by the province link when it is up. IT staff: check that the site hub is on, or type its address (tramtiem site-hub set ADDRESS).</source>
        <translation>Không thấy máy chủ điểm của điểm tiêm này trong mạng nội bộ. Không mất gì: dữ liệu chờ ở đây và được gửi lên tỉnh khi có mạng. Cán bộ IT: kiểm tra máy chủ điểm đã bật chưa, hoặc nhập địa chỉ của nó (tramtiem site-hub set ĐỊA_CHỈ).</translation>
    </message>
    <message>
        <source>Type the relay code the province made for this site (12 letters and digits, e.g. ABCD-EFGH-JKMN).</source>
        <translation>Nhập mã chuyển tiếp tỉnh cấp cho điểm tiêm này (12 chữ và số, ví dụ ABCD-EFGH-JKMN).</translation>
    </message>
    <message>
        <source>A relay code is 12 letters and digits, e.g. ABCD-EFGH-JKMN: check what was typed.</source>
        <translation>Mã chuyển tiếp gồm 12 chữ và số, ví dụ ABCD-EFGH-JKMN: kiểm tra lại mã đã nhập.</translation>
    </message>
    <message>
        <source>The province does not know this relay code: check it, or ask the province for a new one.</source>
        <translation>Tỉnh không nhận ra mã chuyển tiếp này: kiểm tra lại, hoặc xin tỉnh cấp mã mới.</translation>
    </message>
    <message>
        <source>This relay code was already used: ask the province for a new one.</source>
        <translation>Mã chuyển tiếp này đã được dùng: xin tỉnh cấp mã mới.</translation>
    </message>
    <message>
        <source>This relay code has expired (a code lasts 48 hours): ask the province for a new one.</source>
        <translation>Mã chuyển tiếp này đã hết hạn (mã có hiệu lực 48 giờ): xin tỉnh cấp mã mới.</translation>
    </message>
    <message>
        <source>This relay code is for another site: ask the province for a code for this site.</source>
        <translation>Mã chuyển tiếp này của điểm tiêm khác: xin tỉnh cấp mã cho điểm tiêm này.</translation>
    </message>
    <message>
        <source>The province revoked this site hub: ask it for a new relay code.</source>
        <translation>Tỉnh đã thu hồi máy chủ điểm này: xin tỉnh cấp mã chuyển tiếp mới.</translation>
    </message>
    <message>
        <source>Choose a port from {min} to {max} (8765 unless IT staff say otherwise).</source>
        <translation>Chọn cổng từ {min} đến {max} (8765, trừ khi cán bộ IT hướng dẫn khác).</translation>
    </message>
    <message>
        <source>This laptop has no site hub program. IT staff: install the site hub edition of Trạm Tiêm (the installer&apos;s “This laptop is the site hub” task), then try again.</source>
        <translation>Máy này chưa có chương trình máy chủ điểm. Cán bộ IT: cài bản máy chủ điểm của Trạm Tiêm (mục “Máy này là máy chủ điểm” trong bộ cài), rồi thử lại.</translation>
    </message>
    <message>
        <source>This desk is not enrolled with the province yet: enroll it first; the site hub enrolls with the same province.</source>
        <translation>Máy này chưa đăng ký với tỉnh: hãy đăng ký trước; máy chủ điểm đăng ký với cùng tỉnh đó.</translation>
    </message>
    <message>
        <source>The province could not be reached to enroll the site hub: check the Internet line and try again. Nothing was changed.</source>
        <translation>Không kết nối được với tỉnh để đăng ký máy chủ điểm: kiểm tra đường Internet rồi thử lại. Chưa có gì thay đổi.</translation>
    </message>
    <message>
        <source>The province did not enroll the site hub ({reason}). Nothing was changed. IT staff: see the site hub guide.</source>
        <translation>Tỉnh không đăng ký máy chủ điểm ({reason}). Chưa có gì thay đổi. Cán bộ IT: xem hướng dẫn máy chủ điểm.</translation>
    </message>
    <message>
        <source>Port {port} of this laptop is already in use (is a site hub already running?): stop it, or choose another port.</source>
        <translation>Cổng {port} của máy này đang được dùng (máy chủ điểm đã chạy rồi?): hãy tắt nó, hoặc chọn cổng khác.</translation>
    </message>
    <message>
        <source>The site hub did not start ({reason}). IT staff: see its log, {log}.</source>
        <translation>Máy chủ điểm không khởi động được ({reason}). Cán bộ IT: xem nhật ký của nó, {log}.</translation>
    </message>
    <message>
        <source>This laptop&apos;s site hub is not enrolled yet: type the relay code from the province.</source>
        <translation>Máy chủ điểm trên máy này chưa được đăng ký: nhập mã chuyển tiếp tỉnh cấp.</translation>
    </message>
    <message>
        <source>This desk has no way to check a site hub&apos;s identity (it was enrolled before site hubs existed). Nothing was sent and nothing is lost. IT staff: enroll the desk again, or set the site hub with its fingerprint (tramtiem site-hub set ADDRESS --fingerprint SHA256).</source>
        <translation>Máy này chưa có cách kiểm tra danh tính máy chủ điểm (được đăng ký trước khi có máy chủ điểm). Chưa gửi gì và không mất gì. Cán bộ IT: đăng ký lại máy này, hoặc đặt máy chủ điểm kèm dấu vân tay (tramtiem site-hub set ĐỊA_CHỈ --fingerprint SHA256).</translation>
    </message>
    <message>
        <source>This review item no longer exists.</source>
        <translation>Mục cần xem xét này không còn nữa.</translation>
    </message>
    <message>
        <source>This review item was already decided.</source>
        <translation>Mục này đã được xử lý.</translation>
    </message>
    <message>
        <source>This decision does not fit this kind of item.</source>
        <translation>Quyết định này không phù hợp với loại mục.</translation>
    </message>
    <message>
        <source>Invalid value.</source>
        <translation>Giá trị không hợp lệ.</translation>
    </message>
    <message>
        <source>Too long (at most {max} characters).</source>
        <translation>Quá dài (tối đa {max} ký tự).</translation>
    </message>
    <message>
        <source>Sync is not running on this station.</source>
        <translation>Trạm này chưa chạy đồng bộ.</translation>
    </message>
    <message>
        <source>Not found.</source>
        <translation>Không tìm thấy.</translation>
    </message>
    <message>
        <source>Already expected that day: this row adds nothing.</source>
        <translation>Đã có trong danh sách ngày này: dòng này không thêm gì.</translation>
    </message>
    <message>
        <source>This value is not in the mapping&apos;s code list.</source>
        <translation>Giá trị này không có trong bảng mã của tệp ánh xạ.</translation>
    </message>
    <message>
        <source>Same person as row {first_row} of the file.</source>
        <translation>Trùng người với dòng {first_row} của tệp.</translation>
    </message>
    <message>
        <source>Excel had dropped the leading 0 of the ID number; it was put back.</source>
        <translation>Excel đã bỏ số 0 đầu của số giấy tờ; đã thêm lại.</translation>
    </message>
    <message>
        <source>Excel had dropped the leading 0 of the phone number; it was put back.</source>
        <translation>Excel đã bỏ số 0 đầu của số điện thoại; đã thêm lại.</translation>
    </message>
    <message>
        <source>The file cannot be read (damaged, or not an Excel/CSV file).</source>
        <translation>Không đọc được tệp (tệp hỏng, hoặc không phải tệp Excel/CSV).</translation>
    </message>
    <message>
        <source>Use an .xlsx or .csv file.</source>
        <translation>Hãy dùng tệp .xlsx hoặc .csv.</translation>
    </message>
    <message>
        <source>The file is too large (at most {max_mb} MB).</source>
        <translation>Tệp quá lớn (tối đa {max_mb} MB).</translation>
    </message>
    <message>
        <source>The file has too many rows (at most {max}).</source>
        <translation>Tệp có quá nhiều dòng (tối đa {max}).</translation>
    </message>
    <message>
        <source>The workbook has no sheet named “{sheet}”.</source>
        <translation>Tệp Excel không có trang tính tên “{sheet}”.</translation>
    </message>
    <message>
        <source>The file has no header row at row {row}.</source>
        <translation>Tệp không có dòng tiêu đề ở dòng {row}.</translation>
    </message>
    <message>
        <source>The column “{header}” is missing from the file.</source>
        <translation>Tệp thiếu cột “{header}”.</translation>
    </message>
    <message>
        <source>Most names look garbled: the file may be in an old Vietnamese font encoding (TCVN3/VNI). Convert it to Unicode first.</source>
        <translation>Phần lớn họ tên bị lỗi phông: tệp có thể dùng bảng mã cũ (TCVN3/VNI). Hãy chuyển sang Unicode trước.</translation>
    </message>
    <message>
        <source>The first day is after the last day.</source>
        <translation>Ngày bắt đầu sau ngày kết thúc.</translation>
    </message>
    <message>
        <source>The mapping file is not valid.</source>
        <translation>Tệp ánh xạ cột không hợp lệ.</translation>
    </message>
    <message>
        <source>The mapping file cannot be read.</source>
        <translation>Không đọc được tệp ánh xạ cột.</translation>
    </message>
    <message>
        <source>The mapping file is not JSON.</source>
        <translation>Tệp ánh xạ cột không phải JSON.</translation>
    </message>
    <message>
        <source>The mapping&apos;s header and start rows are not valid.</source>
        <translation>Dòng tiêu đề và dòng bắt đầu trong tệp ánh xạ không hợp lệ.</translation>
    </message>
    <message>
        <source>The mapping&apos;s date format is not valid.</source>
        <translation>Định dạng ngày trong tệp ánh xạ không hợp lệ.</translation>
    </message>
    <message>
        <source>The mapping has no columns.</source>
        <translation>Tệp ánh xạ không có cột nào.</translation>
    </message>
    <message>
        <source>A column of the mapping has no header text.</source>
        <translation>Một cột trong tệp ánh xạ không có tiêu đề.</translation>
    </message>
    <message>
        <source>The mapping names an unknown field ({field}).</source>
        <translation>Tệp ánh xạ có trường không xác định ({field}).</translation>
    </message>
    <message>
        <source>The mapping lists a field or header twice ({field}).</source>
        <translation>Tệp ánh xạ lặp lại một trường hoặc tiêu đề ({field}).</translation>
    </message>
    <message>
        <source>The mapping needs at least the name and date of birth columns.</source>
        <translation>Tệp ánh xạ cần ít nhất cột họ tên và ngày sinh.</translation>
    </message>
    <message>
        <source>A code list of the mapping is not valid.</source>
        <translation>Một bảng mã trong tệp ánh xạ không hợp lệ.</translation>
    </message>
    <message>
        <source>A code list of the mapping uses the same text twice ({field}).</source>
        <translation>Một bảng mã trong tệp ánh xạ dùng cùng một giá trị hai lần ({field}).</translation>
    </message>
    <message>
        <source>Something went wrong; the action was not saved. Try again.</source>
        <translation>Có lỗi; thao tác chưa được lưu. Hãy thử lại.</translation>
    </message>
    <message>
        <source>This field is required.</source>
        <translation>Bắt buộc nhập.</translation>
    </message>
    <message>
        <source>This value is not valid.</source>
        <translation>Giá trị không hợp lệ.</translation>
    </message>
    <message>
        <source>Too short (at least {min} characters).</source>
        <translation>Quá ngắn (ít nhất {min} ký tự).</translation>
    </message>
    <message>
        <source>Remove the characters &lt; &gt; {{ }} $ ` ; = \ |.</source>
        <translation>Bỏ các ký tự &lt; &gt; {{ }} $ ` ; = \ |.</translation>
    </message>
    <message>
        <source>pregnancy</source>
        <translation>đang mang thai</translation>
    </message>
    <message>
        <source>breastfeeding</source>
        <translation>đang cho con bú</translation>
    </message>
    <message>
        <source>anaphylaxis to a previous COVID-19 vaccine dose (same vaccine type)</source>
        <translation>phản vệ với mũi vắc xin COVID-19 trước (vắc xin cùng loại)</translation>
    </message>
</context>
<context>
    <name>ObservationWorkspace</name>
    <message>
        <source>Observation (30 minutes)</source>
        <translation>Theo dõi sau tiêm (30 phút)</translation>
    </message>
    <message>
        <source>Observation done (Enter)</source>
        <translation>Xong theo dõi (Enter)</translation>
    </message>
    <message>
        <source>Adverse event… (Ctrl+E)</source>
        <translation>Phản ứng sau tiêm… (Ctrl+E)</translation>
    </message>
    <message>
        <source>Print slip (Ctrl+P)</source>
        <translation>In giấy xác nhận (Ctrl+P)</translation>
    </message>
    <message>
        <source>A4</source>
        <translation>A4</translation>
    </message>
    <message>
        <source>A5</source>
        <translation>A5</translation>
    </message>
    <message>
        <source>Receipt 80 mm</source>
        <translation>Giấy cuộn 80 mm</translation>
    </message>
    <message>
        <source>Printer… (Ctrl+Shift+P)</source>
        <translation>Máy in… (Ctrl+Shift+P)</translation>
    </message>
    <message>
        <source>Slip as PDF</source>
        <translation>Giấy xác nhận PDF</translation>
    </message>
    <message>
        <source>Observation</source>
        <translation>Theo dõi</translation>
    </message>
    <message>
        <source>↑ ↓</source>
        <translation>↑ ↓</translation>
    </message>
    <message>
        <source>Choose the person</source>
        <translation>Chọn người</translation>
    </message>
    <message>
        <source>Enter</source>
        <translation>Enter</translation>
    </message>
    <message>
        <source>Observation done: hand over the certificate</source>
        <translation>Xong theo dõi: trao giấy xác nhận</translation>
    </message>
    <message>
        <source>Ctrl+Z</source>
        <translation>Ctrl+Z</translation>
    </message>
    <message>
        <source>Undo the last “observation done” (a few seconds)</source>
        <translation>Hoàn tác lần “xong theo dõi” vừa rồi (trong vài giây)</translation>
    </message>
    <message>
        <source>Ctrl+E</source>
        <translation>Ctrl+E</translation>
    </message>
    <message>
        <source>Record an adverse event</source>
        <translation>Ghi phản ứng sau tiêm</translation>
    </message>
    <message>
        <source>Ctrl+P</source>
        <translation>Ctrl+P</translation>
    </message>
    <message>
        <source>Print the confirmation slip of the person just done</source>
        <translation>In giấy xác nhận đã tiêm cho người vừa theo dõi xong</translation>
    </message>
    <message>
        <source>Ctrl+Shift+P</source>
        <translation>Ctrl+Shift+P</translation>
    </message>
    <message>
        <source>Choose the slip&apos;s printer</source>
        <translation>Chọn máy in giấy xác nhận</translation>
    </message>
    <message numerus="yes">
        <source>Under observation: %n</source>
        <translation>
            <numerusform>Đang theo dõi: %n</numerusform>
        </translation>
    </message>
    <message>
        <source>Observation ended early: {name}.</source>
        <translation>Đã kết thúc theo dõi sớm: {name}.</translation>
    </message>
    <message>
        <source>Undo (Ctrl+Z)</source>
        <translation>Hoàn tác (Ctrl+Z)</translation>
    </message>
    <message>
        <source>Undone: {name} is under observation again.</source>
        <translation>Đã hoàn tác: {name} tiếp tục được theo dõi.</translation>
    </message>
    <message>
        <source>Observation done: {name}</source>
        <translation>Xong theo dõi: {name}</translation>
    </message>
    <message>
        <source>No PDF viewer opened. The slip is saved here; open it to print: {path}</source>
        <translation>Không mở được trình xem PDF. Giấy xác nhận đã lưu tại đây, hãy mở để in: {path}</translation>
    </message>
    <message>
        <source>Observation done: {name} may leave.</source>
        <translation>Xong theo dõi: {name} có thể về.</translation>
    </message>
    <message>
        <source>Adverse event recorded. Inform the supervisor if it is serious.</source>
        <translation>Đã ghi phản ứng sau tiêm. Báo giám sát nếu nặng.</translation>
    </message>
    <message>
        <source>Adverse event recorded</source>
        <translation>Đã ghi phản ứng sau tiêm</translation>
    </message>
    <message>
        <source>Slips go to {printer}.</source>
        <translation>Giấy xác nhận sẽ in ra {printer}.</translation>
    </message>
    <message>
        <source>The slip could not be sent to {printer}.</source>
        <translation>Không gửi được giấy xác nhận tới {printer}.</translation>
    </message>
    <message>
        <source>Slip sent to {printer}.</source>
        <translation>Đã gửi giấy xác nhận tới {printer}.</translation>
    </message>
    <message>
        <source>The slip could not be written.</source>
        <translation>Không ghi được giấy xác nhận.</translation>
    </message>
    <message>
        <source>No printer is installed: the slip is a PDF to print from the viewer: {path}</source>
        <translation>Máy chưa cài máy in: giấy xác nhận là tệp PDF để in từ trình xem: {path}</translation>
    </message>
    <message>
        <source>Slip ready to print: {path}</source>
        <translation>Giấy xác nhận sẵn sàng để in: {path}</translation>
    </message>
</context>
<context>
    <name>OverrideDialog</name>
    <message>
        <source>Supervisor override</source>
        <translation>Giám sát cho phép</translation>
    </message>
    <message>
        <source>This dose is refused:</source>
        <translation>Mũi tiêm này bị từ chối:</translation>
    </message>
    <message>
        <source>Only a supervisor can let it through. The reason and the supervisor&apos;s name are kept with the dose and in the audit log.</source>
        <translation>Chỉ giám sát mới được cho phép. Lý do và tên giám sát được lưu cùng mũi tiêm và trong nhật ký.</translation>
    </message>
    <message>
        <source>Why is this dose right for this person?</source>
        <translation>Vì sao mũi tiêm này đúng cho người này?</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>Lý do</translation>
    </message>
    <message>
        <source>Supervisor&apos;s user name</source>
        <translation>Tên đăng nhập của giám sát</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>Mật khẩu</translation>
    </message>
    <message>
        <source>Override and record</source>
        <translation>Cho phép và ghi mũi tiêm</translation>
    </message>
    <message>
        <source>Cancel (Esc)</source>
        <translation>Hủy (Esc)</translation>
    </message>
</context>
<context>
    <name>QueueModel</name>
    <message>
        <source>No.</source>
        <translation>STT</translation>
    </message>
    <message>
        <source>Full name</source>
        <translation>Họ và tên</translation>
    </message>
    <message>
        <source>Born</source>
        <translation>Ngày sinh</translation>
    </message>
    <message>
        <source>Arrived</source>
        <translation>Giờ đến</translation>
    </message>
</context>
<context>
    <name>ReasonDialog</name>
    <message>
        <source>Back (Esc)</source>
        <translation>Quay lại (Esc)</translation>
    </message>
</context>
<context>
    <name>ReceptionWorkspace</name>
    <message>
        <source>Reception</source>
        <translation>Tiếp đón</translation>
    </message>
    <message>
        <source>Scanner ready: scan the QR code on the CCCD at any time</source>
        <translation>Máy quét sẵn sàng: quét mã QR trên CCCD bất cứ lúc nào</translation>
    </message>
    <message>
        <source>…or paste the QR text here and press Enter</source>
        <translation>…hoặc dán nội dung mã QR vào đây rồi nhấn Enter</translation>
    </message>
    <message>
        <source>Search (Ctrl+F): name, phone or ID number</source>
        <translation>Tìm (Ctrl+F): họ tên, điện thoại, số giấy tờ</translation>
    </message>
    <message>
        <source>Name with or without accents, in any order; a phone or ID number, or its last digits</source>
        <translation>Họ tên có dấu hoặc không dấu, theo thứ tự bất kỳ; số điện thoại hoặc số giấy tờ, hay vài số cuối</translation>
    </message>
    <message>
        <source>Queue number</source>
        <translation>Số thứ tự</translation>
    </message>
    <message>
        <source>Check in (Enter)</source>
        <translation>Tiếp đón (Enter)</translation>
    </message>
    <message>
        <source>New walk-in (Ctrl+N)</source>
        <translation>Đăng ký mới (Ctrl+N)</translation>
    </message>
    <message>
        <source>Ctrl+F</source>
        <translation>Ctrl+F</translation>
    </message>
    <message>
        <source>Search by name, phone or ID</source>
        <translation>Tìm theo tên, số điện thoại, số giấy tờ</translation>
    </message>
    <message>
        <source>↓ then Enter</source>
        <translation>↓ rồi Enter</translation>
    </message>
    <message>
        <source>Choose a result and check the person in</source>
        <translation>Chọn kết quả và tiếp đón người đó</translation>
    </message>
    <message>
        <source>Ctrl+N</source>
        <translation>Ctrl+N</translation>
    </message>
    <message>
        <source>New walk-in registration</source>
        <translation>Đăng ký người đến trực tiếp</translation>
    </message>
    <message>
        <source>Scan</source>
        <translation>Quét</translation>
    </message>
    <message>
        <source>CCCD QR: finds the person or fills a new registration</source>
        <translation>QR CCCD: tìm người hoặc điền sẵn đăng ký mới</translation>
    </message>
    <message>
        <source>Esc</source>
        <translation>Esc</translation>
    </message>
    <message>
        <source>Close the form (asks if it has input) / clear the search</source>
        <translation>Đóng phiếu (hỏi lại nếu đã nhập) / xóa ô tìm</translation>
    </message>
    <message numerus="yes">
        <source>Search results: %n</source>
        <translation>
            <numerusform>Kết quả tìm: %n</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Today: %n people</source>
        <translation>
            <numerusform>Hôm nay: %n người</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n not arrived yet</source>
        <translation>
            <numerusform>%n người chưa đến</numerusform>
        </translation>
    </message>
    <message>
        <source>Nobody selected</source>
        <translation>Chưa chọn ai</translation>
    </message>
    <message>
        <source>Search, pick from today&apos;s list, or scan a CCCD.</source>
        <translation>Tìm, chọn trong danh sách hôm nay, hoặc quét CCCD.</translation>
    </message>
    <message>
        <source>Born {birth}</source>
        <translation>Sinh {birth}</translation>
    </message>
    <message>
        <source>ID {tail}</source>
        <translation>Giấy tờ {tail}</translation>
    </message>
    <message>
        <source>Phone …{tail}</source>
        <translation>Điện thoại …{tail}</translation>
    </message>
    <message>
        <source>Last dose: {text}</source>
        <translation>Mũi gần nhất: {text}</translation>
    </message>
    <message>
        <source>not on today&apos;s list</source>
        <translation>chưa có trong danh sách hôm nay</translation>
    </message>
    <message>
        <source>Today: {status}</source>
        <translation>Hôm nay: {status}</translation>
    </message>
    <message>
        <source>Add and check in (Enter)</source>
        <translation>Thêm và tiếp đón (Enter)</translation>
    </message>
    <message>
        <source>Checked in. Queue number {label}: please go to screening.</source>
        <translation>Đã tiếp đón. Số thứ tự {label}: mời sang bàn khám sàng lọc.</translation>
    </message>
    <message>
        <source>Checked in: {label}</source>
        <translation>Đã tiếp đón: {label}</translation>
    </message>
    <message>
        <source>What you typed before is back. To start again, close the form and choose “Discard the input”.</source>
        <translation>Nội dung đã nhập trước đó được khôi phục. Muốn nhập lại từ đầu: đóng phiếu và chọn “Bỏ nội dung đã nhập”.</translation>
    </message>
    <message>
        <source>Continue the walk-in (Ctrl+N)</source>
        <translation>Tiếp tục đăng ký (Ctrl+N)</translation>
    </message>
    <message>
        <source>Card scanned: this person is already registered.</source>
        <translation>Đã quét thẻ: người này đã có hồ sơ.</translation>
    </message>
</context>
<context>
    <name>RegistrationForm</name>
    <message>
        <source>New walk-in registration</source>
        <translation>Đăng ký người đến trực tiếp</translation>
    </message>
    <message>
        <source>As on the ID card</source>
        <translation>Như trên giấy tờ</translation>
    </message>
    <message>
        <source>dd/mm/yyyy or year</source>
        <translation>ngày/tháng/năm hoặc năm</translation>
    </message>
    <message>
        <source>Choose</source>
        <translation>Chọn</translation>
    </message>
    <message>
        <source>10 digits, e.g. 0912345678</source>
        <translation>10 chữ số, ví dụ 0912345678</translation>
    </message>
    <message>
        <source>Type the group number</source>
        <translation>Gõ số nhóm</translation>
    </message>
    <message>
        <source>Type to search</source>
        <translation>Gõ để tìm</translation>
    </message>
    <message>
        <source>Choose the province first</source>
        <translation>Chọn tỉnh/thành trước</translation>
    </message>
    <message>
        <source>House number, street, hamlet</source>
        <translation>Số nhà, đường, ấp/khu phố</translation>
    </message>
    <message>
        <source>The person was told how their data is used and agrees</source>
        <translation>Người tiêm đã được thông báo cách dùng dữ liệu và đồng ý</translation>
    </message>
    <message>
        <source>Full name</source>
        <translation>Họ và tên</translation>
    </message>
    <message>
        <source>Date of birth</source>
        <translation>Ngày sinh</translation>
    </message>
    <message>
        <source>Sex</source>
        <translation>Giới tính</translation>
    </message>
    <message>
        <source>Document</source>
        <translation>Giấy tờ</translation>
    </message>
    <message>
        <source>ID number</source>
        <translation>Số giấy tờ</translation>
    </message>
    <message>
        <source>Mobile phone</source>
        <translation>Điện thoại di động</translation>
    </message>
    <message>
        <source>Priority group</source>
        <translation>Nhóm ưu tiên</translation>
    </message>
    <message>
        <source>Province</source>
        <translation>Tỉnh/thành</translation>
    </message>
    <message>
        <source>Ward / commune</source>
        <translation>Phường/xã</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>Địa chỉ</translation>
    </message>
    <message>
        <source>Already registered? Choose the person (Enter), or save as new:</source>
        <translation>Đã có hồ sơ? Chọn người (Enter), hoặc lưu thành người mới:</translation>
    </message>
    <message>
        <source>Save and check in (Enter)</source>
        <translation>Lưu và tiếp đón (Enter)</translation>
    </message>
    <message>
        <source>Save as a new person (Ctrl+S)</source>
        <translation>Lưu thành người mới (Ctrl+S)</translation>
    </message>
    <message>
        <source>Close (Esc)</source>
        <translation>Đóng (Esc)</translation>
    </message>
    <message>
        <source>Close the registration form?</source>
        <translation>Đóng phiếu đăng ký?</translation>
    </message>
    <message>
        <source>What you typed is kept: “New walk-in (Ctrl+N)” brings it back. Discard it only if this person will not be registered.</source>
        <translation>Nội dung đã nhập được giữ lại: “Đăng ký mới (Ctrl+N)” sẽ mở lại. Chỉ bỏ đi nếu người này sẽ không đăng ký.</translation>
    </message>
    <message>
        <source>same ID number</source>
        <translation>cùng số giấy tờ</translation>
    </message>
    <message>
        <source>same name, birth date and phone</source>
        <translation>cùng họ tên, ngày sinh và số điện thoại</translation>
    </message>
    <message>
        <source>same name and birth date</source>
        <translation>cùng họ tên và ngày sinh</translation>
    </message>
</context>
<context>
    <name>RejectedModel</name>
    <message>
        <source>Entered</source>
        <translation>Nhập lúc</translation>
    </message>
    <message>
        <source>What</source>
        <translation>Nội dung</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>Lý do</translation>
    </message>
</context>
<context>
    <name>ReportDosesModel</name>
    <message>
        <source>Vaccine</source>
        <translation>Vắc xin</translation>
    </message>
    <message>
        <source>Dose</source>
        <translation>Mũi</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>Loại mũi</translation>
    </message>
    <message>
        <source>Priority group</source>
        <translation>Nhóm đối tượng</translation>
    </message>
    <message>
        <source>Doses</source>
        <translation>Số mũi</translation>
    </message>
</context>
<context>
    <name>ReportLotsModel</name>
    <message>
        <source>Vaccine</source>
        <translation>Vắc xin</translation>
    </message>
    <message>
        <source>Lot</source>
        <translation>Số lô</translation>
    </message>
    <message>
        <source>Received</source>
        <translation>Số liều nhận</translation>
    </message>
    <message>
        <source>Used that day</source>
        <translation>Dùng trong ngày</translation>
    </message>
    <message>
        <source>Used to date</source>
        <translation>Dùng lũy kế</translation>
    </message>
    <message>
        <source>Remaining</source>
        <translation>Còn lại</translation>
    </message>
</context>
<context>
    <name>ReportsWorkspace</name>
    <message>
        <source>Reports</source>
        <translation>Báo cáo</translation>
    </message>
    <message>
        <source>Daily report</source>
        <translation>Báo cáo ngày</translation>
    </message>
    <message>
        <source>Exchange</source>
        <translation>Xuất/nhập dữ liệu</translation>
    </message>
    <message>
        <source>Print PDF…</source>
        <translation>In PDF…</translation>
    </message>
    <message>
        <source>Export Excel…</source>
        <translation>Xuất Excel…</translation>
    </message>
    <message>
        <source>Day:</source>
        <translation>Ngày:</translation>
    </message>
    <message>
        <source>Doses given</source>
        <translation>Số mũi đã tiêm</translation>
    </message>
    <message>
        <source>People vaccinated</source>
        <translation>Số người được tiêm</translation>
    </message>
    <message>
        <source>Registered</source>
        <translation>Đăng ký</translation>
    </message>
    <message>
        <source>Came</source>
        <translation>Đã đến</translation>
    </message>
    <message>
        <source>Screened</source>
        <translation>Đã khám sàng lọc</translation>
    </message>
    <message>
        <source>Deferred</source>
        <translation>Hoãn tiêm</translation>
    </message>
    <message>
        <source>Adverse events</source>
        <translation>Phản ứng sau tiêm</translation>
    </message>
    <message>
        <source>Voided doses</source>
        <translation>Mũi đã vô hiệu</translation>
    </message>
    <message>
        <source>Doses by vaccine, dose, kind and priority group</source>
        <translation>Số mũi theo vắc xin, mũi, loại mũi và nhóm đối tượng</translation>
    </message>
    <message>
        <source>Lots: doses used against doses received</source>
        <translation>Lô vắc xin: số liều đã dùng so với số liều nhận</translation>
    </message>
    <message>
        <source>Export for the national platform</source>
        <translation>Xuất dữ liệu cho Nền tảng quốc gia</translation>
    </message>
    <message>
        <source>built-in mapping (placeholder template)</source>
        <translation>ánh xạ cột mặc định (mẫu tạm thời)</translation>
    </message>
    <message>
        <source>Mapping file…</source>
        <translation>Tệp ánh xạ cột…</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>Xuất…</translation>
    </message>
    <message>
        <source>From</source>
        <translation>Từ ngày</translation>
    </message>
    <message>
        <source>to</source>
        <translation>đến ngày</translation>
    </message>
    <message>
        <source>The file holds personal data: keep it on the site&apos;s encrypted stick and delete it once uploaded.</source>
        <translation>Tệp chứa dữ liệu cá nhân: chỉ lưu trên USB mã hóa của điểm tiêm và xóa sau khi đã tải lên.</translation>
    </message>
    <message>
        <source>Import pre-registrations</source>
        <translation>Nhập danh sách đăng ký trước</translation>
    </message>
    <message>
        <source>an .xlsx or .csv list</source>
        <translation>danh sách .xlsx hoặc .csv</translation>
    </message>
    <message>
        <source>Choose file…</source>
        <translation>Chọn tệp…</translation>
    </message>
    <message>
        <source>Check the file</source>
        <translation>Kiểm tra tệp</translation>
    </message>
    <message>
        <source>Import all</source>
        <translation>Nhập tất cả</translation>
    </message>
    <message>
        <source>File</source>
        <translation>Tệp</translation>
    </message>
    <message>
        <source>Expected on</source>
        <translation>Ngày hẹn tiêm</translation>
    </message>
    <message>
        <source>Ctrl+Tab</source>
        <translation>Ctrl+Tab</translation>
    </message>
    <message>
        <source>Next tab (daily report, exchange)</source>
        <translation>Thẻ tiếp theo (báo cáo ngày, xuất/nhập)</translation>
    </message>
    <message>
        <source>Column mapping</source>
        <translation>Tệp ánh xạ cột</translation>
    </message>
    <message>
        <source>Mapping (*.json)</source>
        <translation>Ánh xạ cột (*.json)</translation>
    </message>
    <message>
        <source>Pre-registration list</source>
        <translation>Danh sách đăng ký trước</translation>
    </message>
    <message>
        <source>Lists (*.xlsx *.csv)</source>
        <translation>Danh sách (*.xlsx *.csv)</translation>
    </message>
    <message>
        <source>Save the report as PDF</source>
        <translation>Lưu báo cáo dạng PDF</translation>
    </message>
    <message>
        <source>The file could not be written.</source>
        <translation>Không ghi được tệp.</translation>
    </message>
    <message>
        <source>Report saved: {path}</source>
        <translation>Đã lưu báo cáo: {path}</translation>
    </message>
    <message>
        <source>Report saved</source>
        <translation>Đã lưu báo cáo</translation>
    </message>
    <message>
        <source>Export the report to Excel</source>
        <translation>Xuất báo cáo ra Excel</translation>
    </message>
    <message>
        <source>Workbook saved: {path}</source>
        <translation>Đã lưu tệp Excel: {path}</translation>
    </message>
    <message>
        <source>Excel (*.xlsx);;CSV (*.csv)</source>
        <translation>Excel (*.xlsx);;CSV (*.csv)</translation>
    </message>
    <message>
        <source>Exported {n} doses to {path}.</source>
        <translation>Đã xuất {n} mũi tiêm vào {path}.</translation>
    </message>
    <message>
        <source>Choose the file first.</source>
        <translation>Hãy chọn tệp trước.</translation>
    </message>
    <message>
        <source>{read} rows read: {new} new people, {known} already known, {there} already expected that day, {bad} rows left out.</source>
        <translation>Đã đọc {read} dòng: {new} người mới, {known} người đã có hồ sơ, {there} người đã có trong danh sách ngày này, {bad} dòng bị loại.</translation>
    </message>
    <message>
        <source>Nothing is imported yet. {bad} rows have problems (listed below) and would be left out; fix the file and check again, or import the {good} good rows.</source>
        <translation>Chưa nhập gì. {bad} dòng có lỗi (liệt kê bên dưới) và sẽ bị loại; hãy sửa tệp rồi kiểm tra lại, hoặc nhập {good} dòng hợp lệ.</translation>
    </message>
    <message>
        <source>Nothing is imported yet. All {n} rows can be imported.</source>
        <translation>Chưa nhập gì. Có thể nhập cả {n} dòng.</translation>
    </message>
    <message>
        <source>Everyone in this file is already expected that day.</source>
        <translation>Mọi người trong tệp đã có trong danh sách ngày này.</translation>
    </message>
    <message>
        <source>Importing… {percent}% (nothing is saved until every row is in)</source>
        <translation>Đang nhập… {percent}% (chưa lưu gì cho đến khi mọi dòng đã vào)</translation>
    </message>
    <message>
        <source>Imported: {people} new people, {regs} registrations for {day}.</source>
        <translation>Đã nhập: {people} người mới, {regs} lượt đăng ký cho ngày {day}.</translation>
    </message>
    <message>
        <source>Import done</source>
        <translation>Đã nhập xong</translation>
    </message>
</context>
<context>
    <name>ReviewsModel</name>
    <message>
        <source>Priority</source>
        <translation>Mức ưu tiên</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>Loại</translation>
    </message>
    <message>
        <source>Since</source>
        <translation>Từ lúc</translation>
    </message>
</context>
<context>
    <name>ScreeningWorkspace</name>
    <message>
        <source>Screening</source>
        <translation>Khám sàng lọc</translation>
    </message>
    <message>
        <source>Choose a person from the queue</source>
        <translation>Chọn một người trong hàng chờ</translation>
    </message>
    <message>
        <source>Questions (tick = yes)</source>
        <translation>Câu hỏi (đánh dấu = Có)</translation>
    </message>
    <message>
        <source>Parent or guardian (children&apos;s checklist)</source>
        <translation>Cha, mẹ hoặc người giám hộ (bảng kiểm trẻ em)</translation>
    </message>
    <message>
        <source>Full name</source>
        <translation>Họ và tên</translation>
    </message>
    <message>
        <source>Phone</source>
        <translation>Điện thoại</translation>
    </message>
    <message>
        <source>Vital signs (leave empty if not measured)</source>
        <translation>Dấu hiệu sống (để trống nếu không đo)</translation>
    </message>
    <message>
        <source>Reason for a different outcome (required)</source>
        <translation>Lý do kết luận khác gợi ý (bắt buộc)</translation>
    </message>
    <message>
        <source>Save screening (Ctrl+Enter)</source>
        <translation>Lưu phiếu khám (Ctrl+Enter)</translation>
    </message>
    <message>
        <source>Suggested</source>
        <translation>Gợi ý</translation>
    </message>
    <message>
        <source>Why</source>
        <translation>Vì sao</translation>
    </message>
    <message>
        <source>Doctor&apos;s decision</source>
        <translation>Kết luận của bác sĩ</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>Lý do</translation>
    </message>
    <message>
        <source>/min</source>
        <translation>lần/phút</translation>
    </message>
    <message>
        <source>Details</source>
        <translation>Ghi rõ</translation>
    </message>
    <message>
        <source>Temperature</source>
        <translation>Nhiệt độ</translation>
    </message>
    <message>
        <source>Pulse</source>
        <translation>Mạch</translation>
    </message>
    <message>
        <source>Blood pressure, systolic</source>
        <translation>Huyết áp tâm thu</translation>
    </message>
    <message>
        <source>Blood pressure, diastolic</source>
        <translation>Huyết áp tâm trương</translation>
    </message>
    <message>
        <source>Breathing rate</source>
        <translation>Nhịp thở</translation>
    </message>
    <message>
        <source>↑ ↓ then Enter</source>
        <translation>↑ ↓ rồi Enter</translation>
    </message>
    <message>
        <source>Choose the next person and start the form</source>
        <translation>Chọn người tiếp theo và bắt đầu phiếu</translation>
    </message>
    <message>
        <source>Ctrl+T</source>
        <translation>Ctrl+T</translation>
    </message>
    <message>
        <source>To the temperature (the first vital sign)</source>
        <translation>Tới ô nhiệt độ (chỉ số sinh tồn đầu tiên)</translation>
    </message>
    <message>
        <source>Space</source>
        <translation>Dấu cách</translation>
    </message>
    <message>
        <source>Tick / untick a question</source>
        <translation>Đánh dấu / bỏ đánh dấu câu hỏi</translation>
    </message>
    <message>
        <source>Ctrl+Enter</source>
        <translation>Ctrl+Enter</translation>
    </message>
    <message>
        <source>Save the screening</source>
        <translation>Lưu phiếu khám sàng lọc</translation>
    </message>
    <message numerus="yes">
        <source>Waiting for screening: %n</source>
        <translation>
            <numerusform>Chờ khám sàng lọc: %n</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n years</source>
        <translation>
            <numerusform>%n tuổi</numerusform>
        </translation>
    </message>
    <message>
        <source>{a}–{b} years</source>
        <translation>{a}–{b} tuổi</translation>
    </message>
    <message>
        <source>Every answer is “no” and no vital sign is abnormal.</source>
        <translation>Mọi câu trả lời là “Không” và không có dấu hiệu sống bất thường.</translation>
    </message>
    <message>
        <source>Question {id}: {text}</source>
        <translation>Câu {id}: {text}</translation>
    </message>
    <message>
        <source>{vital} {value} (normal {low}–{high})</source>
        <translation>{vital} {value} (bình thường {low}–{high})</translation>
    </message>
    <message>
        <source>The strongest wins: {order}.</source>
        <translation>Kết luận mạnh nhất được chọn: {order}.</translation>
    </message>
    <message>
        <source>Saved: {outcome}. Send the person to vaccination.</source>
        <translation>Đã lưu: {outcome}. Mời sang bàn tiêm.</translation>
    </message>
    <message>
        <source>Saved: {outcome}. The person is not vaccinated today.</source>
        <translation>Đã lưu: {outcome}. Hôm nay không tiêm.</translation>
    </message>
    <message>
        <source>Screening saved</source>
        <translation>Đã lưu phiếu khám</translation>
    </message>
</context>
<context>
    <name>SetupWizard</name>
    <message>
        <source>Trạm Tiêm — set up this laptop</source>
        <translation>Trạm Tiêm — cài đặt máy này</translation>
    </message>
    <message>
        <source>Set up this laptop as a vaccination station</source>
        <translation>Cài đặt máy này làm trạm tiêm chủng</translation>
    </message>
    <message>
        <source>1. Connect to the hub</source>
        <translation>1. Kết nối máy chủ</translation>
    </message>
    <message>
        <source>Type the hub address and the one-time code from the hub admin. You can type them without a connection; “Connect” needs the hub.</source>
        <translation>Nhập địa chỉ máy chủ và mã dùng một lần do quản trị máy chủ cấp. Có thể nhập khi chưa có mạng; nút “Kết nối” cần máy chủ.</translation>
    </message>
    <message>
        <source>Hub address</source>
        <translation>Địa chỉ máy chủ</translation>
    </message>
    <message>
        <source>One-time code</source>
        <translation>Mã dùng một lần</translation>
    </message>
    <message>
        <source>Station letter</source>
        <translation>Chữ cái của trạm</translation>
    </message>
    <message>
        <source>Laptop name (optional)</source>
        <translation>Tên máy (không bắt buộc)</translation>
    </message>
    <message>
        <source>Load provisioning file…</source>
        <translation>Nạp tệp cấu hình…</translation>
    </message>
    <message>
        <source>Connect (Enter)</source>
        <translation>Kết nối (Enter)</translation>
    </message>
    <message>
        <source>2. Check the site</source>
        <translation>2. Kiểm tra điểm tiêm</translation>
    </message>
    <message>
        <source>The hub enrolled this laptop at the site below. Is this your site?</source>
        <translation>Máy chủ đã đăng ký máy này tại điểm tiêm dưới đây. Đây có đúng là điểm tiêm của bạn không?</translation>
    </message>
    <message>
        <source>No, this is not my site</source>
        <translation>Không, không phải điểm tiêm của tôi</translation>
    </message>
    <message>
        <source>Yes, this is my site (Enter)</source>
        <translation>Đúng, đây là điểm tiêm của tôi (Enter)</translation>
    </message>
    <message>
        <source>3. First administrator</source>
        <translation>3. Quản trị viên đầu tiên</translation>
    </message>
    <message>
        <source>This account sets up users and vaccine lots at the site. Choose a password of at least 8 characters.</source>
        <translation>Tài khoản này tạo người dùng và lô vắc xin tại điểm tiêm. Chọn mật khẩu ít nhất 8 ký tự.</translation>
    </message>
    <message>
        <source>User name</source>
        <translation>Tên đăng nhập</translation>
    </message>
    <message>
        <source>Full name</source>
        <translation>Họ và tên</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>Mật khẩu</translation>
    </message>
    <message>
        <source>Password again</source>
        <translation>Nhập lại mật khẩu</translation>
    </message>
    <message>
        <source>Create the account (Enter)</source>
        <translation>Tạo tài khoản (Enter)</translation>
    </message>
    <message>
        <source>4. Recovery code</source>
        <translation>4. Mã khôi phục</translation>
    </message>
    <message>
        <source>If this laptop breaks, its data can be opened on another one only with this code and a backup. Print it or write it down, and keep it locked away at the site — never in the laptop bag.</source>
        <translation>Nếu máy này hỏng, chỉ có thể mở dữ liệu trên máy khác bằng mã này và một bản sao lưu. Hãy in hoặc chép lại, cất khóa cẩn thận tại điểm tiêm — không để trong túi máy tính.</translation>
    </message>
    <message>
        <source>Save as PDF to print…</source>
        <translation>Lưu thành PDF để in…</translation>
    </message>
    <message>
        <source>I have printed or written down the recovery code</source>
        <translation>Tôi đã in hoặc chép lại mã khôi phục</translation>
    </message>
    <message>
        <source>Finish</source>
        <translation>Hoàn tất</translation>
    </message>
    <message>
        <source>{name} ({code})</source>
        <translation>{name} ({code})</translation>
    </message>
    <message>
        <source>The provisioning file is for site {expected}, but this code is for {actual}.</source>
        <translation>Tệp cấu hình dành cho điểm tiêm {expected}, nhưng mã này của điểm tiêm {actual}.</translation>
    </message>
    <message>
        <source>Provisioning file loaded for site {site}.</source>
        <translation>Đã nạp tệp cấu hình cho điểm tiêm {site}.</translation>
    </message>
    <message>
        <source>Provisioning file</source>
        <translation>Tệp cấu hình</translation>
    </message>
    <message>
        <source>Provisioning file (*.json)</source>
        <translation>Tệp cấu hình (*.json)</translation>
    </message>
    <message>
        <source>The hub address starts with https:// (or http://).</source>
        <translation>Địa chỉ máy chủ bắt đầu bằng https:// (hoặc http://).</translation>
    </message>
    <message>
        <source>Type the one-time code.</source>
        <translation>Nhập mã dùng một lần.</translation>
    </message>
    <message>
        <source>The station letter is one letter, A to Z.</source>
        <translation>Chữ cái của trạm là một chữ từ A đến Z.</translation>
    </message>
    <message>
        <source>Connecting to the hub…</source>
        <translation>Đang kết nối máy chủ…</translation>
    </message>
    <message>
        <source>The hub does not know this code. Check it, or ask for a new one.</source>
        <translation>Máy chủ không nhận ra mã này. Hãy kiểm tra lại hoặc xin mã mới.</translation>
    </message>
    <message>
        <source>This code was already used. Ask the hub admin for a new one.</source>
        <translation>Mã này đã được dùng. Hãy xin quản trị máy chủ một mã mới.</translation>
    </message>
    <message>
        <source>This code has expired. Ask the hub admin for a new one.</source>
        <translation>Mã này đã hết hạn. Hãy xin quản trị máy chủ một mã mới.</translation>
    </message>
    <message>
        <source>This laptop is enrolled at another site. Ask for a code for that site.</source>
        <translation>Máy này đã đăng ký ở một điểm tiêm khác. Hãy xin mã của điểm tiêm đó.</translation>
    </message>
    <message>
        <source>This station belongs to another site than the code. Ask for a code for its site.</source>
        <translation>Trạm này thuộc điểm tiêm khác với mã. Hãy xin mã của đúng điểm tiêm.</translation>
    </message>
    <message>
        <source>This station was revoked at the hub. Ask the hub admin to lift the revocation.</source>
        <translation>Máy này đã bị thu hồi quyền trên máy chủ. Hãy nhờ quản trị máy chủ mở lại.</translation>
    </message>
    <message>
        <source>The hub cannot be reached. Check the address and the connection; what you typed is kept, so you can continue here later.</source>
        <translation>Không kết nối được máy chủ. Hãy kiểm tra địa chỉ và đường truyền; thông tin đã nhập được giữ lại để tiếp tục sau.</translation>
    </message>
    <message>
        <source>The hub refused the enrollment ({code}).</source>
        <translation>Máy chủ từ chối đăng ký ({code}).</translation>
    </message>
    <message>
        <source>Ask the hub admin for a one-time code for your site, then connect again.</source>
        <translation>Hãy xin quản trị máy chủ mã dùng một lần của điểm tiêm của bạn, rồi kết nối lại.</translation>
    </message>
    <message>
        <source>The two passwords differ.</source>
        <translation>Hai mật khẩu không giống nhau.</translation>
    </message>
    <message>
        <source>Trạm Tiêm recovery code</source>
        <translation>Mã khôi phục Trạm Tiêm</translation>
    </message>
    <message>
        <source>Site: {site}</source>
        <translation>Điểm tiêm: {site}</translation>
    </message>
    <message>
        <source>Station: {sid}</source>
        <translation>Trạm: {sid}</translation>
    </message>
    <message>
        <source>With this code and a backup, this station&apos;s data can be opened on another laptop (tramtiem restore … --recovery-code). Keep this sheet locked away at the site.</source>
        <translation>Với mã này và một bản sao lưu, có thể mở dữ liệu của trạm trên máy khác (tramtiem restore … --recovery-code). Hãy cất khóa tờ giấy này tại điểm tiêm.</translation>
    </message>
    <message>
        <source>Save the recovery code</source>
        <translation>Lưu mã khôi phục</translation>
    </message>
    <message>
        <source>Saved. Print it now and keep it locked away.</source>
        <translation>Đã lưu. Hãy in ngay và cất khóa cẩn thận.</translation>
    </message>
</context>
<context>
    <name>SiteHubPanel</name>
    <message>
        <source>Site hub (this site&apos;s LAN)</source>
        <translation>Máy chủ điểm (mạng nội bộ của điểm tiêm)</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>Địa chỉ</translation>
    </message>
    <message>
        <source>Found</source>
        <translation>Cách tìm</translation>
    </message>
    <message>
        <source>This desk → site hub</source>
        <translation>Máy này → máy chủ điểm</translation>
    </message>
    <message>
        <source>Last contact</source>
        <translation>Liên lạc gần nhất</translation>
    </message>
    <message>
        <source>Not yet at the site hub</source>
        <translation>Chưa tới máy chủ điểm</translation>
    </message>
    <message>
        <source>At the site hub, not yet at the province</source>
        <translation>Ở máy chủ điểm, chưa lên tỉnh</translation>
    </message>
    <message>
        <source>Site hub → province</source>
        <translation>Máy chủ điểm → tỉnh</translation>
    </message>
    <message>
        <source>Province last answered</source>
        <translation>Tỉnh trả lời gần nhất</translation>
    </message>
    <message>
        <source>Waiting at the site hub (all desks)</source>
        <translation>Đang chờ ở máy chủ điểm (mọi máy)</translation>
    </message>
    <message>
        <source>found on the LAN</source>
        <translation>tự tìm thấy trong mạng nội bộ</translation>
    </message>
    <message>
        <source>typed by IT staff</source>
        <translation>do cán bộ CNTT nhập</translation>
    </message>
    <message>
        <source>never</source>
        <translation>chưa lần nào</translation>
    </message>
    <message>
        <source>{time} ({age} ago)</source>
        <translation>{time} ({age} trước)</translation>
    </message>
    <message>
        <source>not known (the site hub did not answer)</source>
        <translation>không rõ (máy chủ điểm không trả lời)</translation>
    </message>
    <message>
        <source>asking the site hub…</source>
        <translation>đang hỏi máy chủ điểm…</translation>
    </message>
    <message>
        <source>reachable</source>
        <translation>thông</translation>
    </message>
    <message>
        <source>not reachable</source>
        <translation>mất kết nối</translation>
    </message>
    <message>
        <source>{n} (this desk: {mine})</source>
        <translation>{n} (của máy này: {mine})</translation>
    </message>
</context>
<context>
    <name>SiteHubTab</name>
    <message>
        <source>This laptop is the site hub</source>
        <translation>Máy này là máy chủ điểm</translation>
    </message>
    <message>
        <source>The other desks of this site sync with this laptop over the site&apos;s network, also when the Internet line is down; it sends everything on to the province. Keep this laptop on during the session. Turn it on once with the relay code from the province.</source>
        <translation>Các bàn khác của điểm tiêm đồng bộ với máy này qua mạng nội bộ, kể cả khi mất Internet; máy này chuyển tất cả lên tỉnh. Giữ máy này bật trong suốt buổi tiêm. Bật một lần bằng mã chuyển tiếp tỉnh cấp.</translation>
    </message>
    <message>
        <source>Relay code</source>
        <translation>Mã chuyển tiếp</translation>
    </message>
    <message>
        <source>Port</source>
        <translation>Cổng</translation>
    </message>
    <message>
        <source>Turn on</source>
        <translation>Bật</translation>
    </message>
    <message>
        <source>Turn off</source>
        <translation>Tắt</translation>
    </message>
    <message>
        <source>Reading the site hub&apos;s state…</source>
        <translation>Đang đọc trạng thái máy chủ điểm…</translation>
    </message>
    <message>
        <source>Running: the desks of site {site} sync with this laptop.</source>
        <translation>Đang chạy: các bàn của điểm {site} đồng bộ với máy này.</translation>
    </message>
    <message>
        <source>Address for the other desks: {urls}</source>
        <translation>Địa chỉ cho các bàn khác: {urls}</translation>
    </message>
    <message>
        <source>Certificate (SHA-256): {fp}</source>
        <translation>Chứng chỉ (SHA-256): {fp}</translation>
    </message>
    <message>
        <source>Link to the province: not known yet.</source>
        <translation>Kết nối với tỉnh: chưa rõ.</translation>
    </message>
    <message>
        <source>Link to the province: up; {n} records waiting to be sent.</source>
        <translation>Kết nối với tỉnh: có; {n} bản ghi chờ gửi.</translation>
    </message>
    <message>
        <source>Link to the province: down since {when}; {n} records kept here wait for it.</source>
        <translation>Kết nối với tỉnh: mất từ {when}; {n} bản ghi giữ ở đây chờ gửi.</translation>
    </message>
    <message>
        <source>Turned on, but not running.</source>
        <translation>Đã bật nhưng không chạy.</translation>
    </message>
    <message>
        <source>Off: this laptop is an ordinary desk.</source>
        <translation>Tắt: máy này là một bàn bình thường.</translation>
    </message>
    <message>
        <source>Enrolled as the site hub of {site} (no code needed to turn it on again).</source>
        <translation>Đã đăng ký làm máy chủ điểm của {site} (bật lại không cần mã).</translation>
    </message>
    <message>
        <source>Enrolling with the province and starting the site hub…</source>
        <translation>Đang đăng ký với tỉnh và khởi động máy chủ điểm…</translation>
    </message>
    <message>
        <source>The site hub is running.</source>
        <translation>Máy chủ điểm đang chạy.</translation>
    </message>
    <message>
        <source>Turn off the site hub</source>
        <translation>Tắt máy chủ điểm</translation>
    </message>
    <message>
        <source>The site hub still holds {n} records the province has not received. They stay on this laptop and every desk keeps its own copy until the province has it: nothing is lost. Turn it off now?</source>
        <translation>Máy chủ điểm còn giữ {n} bản ghi tỉnh chưa nhận. Chúng vẫn nằm trên máy này và mỗi bàn giữ bản của mình cho đến khi tỉnh nhận: không mất gì. Tắt ngay bây giờ?</translation>
    </message>
    <message>
        <source>Stopping the site hub…</source>
        <translation>Đang tắt máy chủ điểm…</translation>
    </message>
    <message>
        <source>The site hub is off; its data stays on this laptop.</source>
        <translation>Máy chủ điểm đã tắt; dữ liệu của nó vẫn nằm trên máy này.</translation>
    </message>
</context>
<context>
    <name>StationApp</name>
    <message>
        <source>Trạm Tiêm is already open on this computer for this station. Look for its window in the taskbar.</source>
        <translation>Trạm Tiêm đang mở trên máy này cho điểm tiêm này. Hãy tìm cửa sổ của nó trên thanh tác vụ.</translation>
    </message>
</context>
<context>
    <name>StationStatusBar</name>
    <message numerus="yes">
        <source>%n min</source>
        <translation>
            <numerusform>%n phút</numerusform>
        </translation>
    </message>
    <message>
        <source>{h} h {m} min</source>
        <translation>{h} giờ {m} phút</translation>
    </message>
    <message numerus="yes">
        <source>%n days</source>
        <translation>
            <numerusform>%n ngày</numerusform>
        </translation>
    </message>
    <message>
        <source>Site {site}</source>
        <translation>Điểm tiêm {site}</translation>
    </message>
    <message>
        <source>Site hub: {line} · {n} to send</source>
        <translation>Máy chủ điểm: {line} · {n} chờ gửi</translation>
    </message>
    <message>
        <source>Site hub {url}: {n} not yet there; {held} held there, not yet at the province.</source>
        <translation>Máy chủ điểm {url}: {n} thao tác chưa tới; {held} thao tác đang ở đó, chưa lên tỉnh.</translation>
    </message>
    <message>
        <source>Province: {line} · {n} at the site hub</source>
        <translation>Tỉnh: {line} · {n} ở máy chủ điểm</translation>
    </message>
    <message numerus="yes">
        <source>Waiting to send: %n</source>
        <translation>
            <numerusform>Chờ gửi: %n</numerusform>
        </translation>
    </message>
    <message>
        <source>(oldest {age})</source>
        <translation>(lâu nhất {age})</translation>
    </message>
    <message>
        <source>All sent</source>
        <translation>Đã gửi hết</translation>
    </message>
    <message>
        <source>Last sync {when}</source>
        <translation>Đồng bộ lúc {when}</translation>
    </message>
    <message>
        <source>Never synced</source>
        <translation>Chưa đồng bộ lần nào</translation>
    </message>
</context>
<context>
    <name>SyncWorkspace</name>
    <message>
        <source>Sync with the hub</source>
        <translation>Đồng bộ với máy chủ</translation>
    </message>
    <message>
        <source>Sync now (Ctrl+R)</source>
        <translation>Đồng bộ ngay (Ctrl+R)</translation>
    </message>
    <message>
        <source>Line</source>
        <translation>Đường truyền</translation>
    </message>
    <message>
        <source>Waiting to send</source>
        <translation>Chờ gửi</translation>
    </message>
    <message>
        <source>Oldest waiting</source>
        <translation>Chờ lâu nhất</translation>
    </message>
    <message>
        <source>Last successful sync</source>
        <translation>Lần đồng bộ thành công gần nhất</translation>
    </message>
    <message>
        <source>Progress</source>
        <translation>Tiến độ</translation>
    </message>
    <message>
        <source>Time left</source>
        <translation>Còn lại</translation>
    </message>
    <message>
        <source>Refused by the hub</source>
        <translation>Máy chủ từ chối</translation>
    </message>
    <message>
        <source>Sync</source>
        <translation>Đồng bộ</translation>
    </message>
    <message>
        <source>Ctrl+R</source>
        <translation>Ctrl+R</translation>
    </message>
    <message>
        <source>Sync now</source>
        <translation>Đồng bộ ngay</translation>
    </message>
    <message>
        <source>↑ ↓ then a button</source>
        <translation>↑ ↓ rồi chọn nút</translation>
    </message>
    <message>
        <source>Choose a review item and decide</source>
        <translation>Chọn mục cần xem xét và quyết định</translation>
    </message>
    <message>
        <source>never</source>
        <translation>chưa lần nào</translation>
    </message>
    <message>
        <source>Line to the province</source>
        <translation>Đường lên tỉnh</translation>
    </message>
    <message>
        <source>Sync started.</source>
        <translation>Đã bắt đầu đồng bộ.</translation>
    </message>
    <message numerus="yes">
        <source>To review: %n</source>
        <translation>
            <numerusform>Cần xem xét: %n</numerusform>
        </translation>
    </message>
    <message>
        <source>Choose an item to see the details.</source>
        <translation>Chọn một mục để xem chi tiết.</translation>
    </message>
    <message>
        <source>A supervisor decides these items.</source>
        <translation>Giám sát viên quyết định các mục này.</translation>
    </message>
    <message>
        <source>• {name} · born {birth} · ID {id} · phone {phone}</source>
        <translation>• {name} · sinh {birth} · giấy tờ {id} · điện thoại {phone}</translation>
    </message>
    <message>
        <source>Void one dose</source>
        <translation>Vô hiệu một mũi</translation>
    </message>
    <message>
        <source>Why is this dose void?</source>
        <translation>Vì sao vô hiệu mũi tiêm này?</translation>
    </message>
    <message>
        <source>Void the dose</source>
        <translation>Vô hiệu mũi tiêm</translation>
    </message>
    <message>
        <source>Keep the dose (Esc)</source>
        <translation>Giữ mũi tiêm (Esc)</translation>
    </message>
    <message>
        <source>Decision saved; it will be sent to the hub.</source>
        <translation>Đã lưu quyết định; sẽ gửi lên máy chủ.</translation>
    </message>
    <message>
        <source>Review item resolved</source>
        <translation>Đã xử lý mục cần xem xét</translation>
    </message>
</context>
<context>
    <name>TodayModel</name>
    <message>
        <source>No.</source>
        <translation>STT</translation>
    </message>
    <message>
        <source>Full name</source>
        <translation>Họ và tên</translation>
    </message>
    <message>
        <source>Born</source>
        <translation>Ngày sinh</translation>
    </message>
    <message>
        <source>ID</source>
        <translation>Giấy tờ</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Trạng thái</translation>
    </message>
    <message>
        <source>Source</source>
        <translation>Nguồn</translation>
    </message>
</context>
<context>
    <name>UsersModel</name>
    <message>
        <source>User name</source>
        <translation>Tên đăng nhập</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>Họ tên</translation>
    </message>
    <message>
        <source>Role</source>
        <translation>Vai trò</translation>
    </message>
    <message>
        <source>Active</source>
        <translation>Đang dùng</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>có</translation>
    </message>
    <message>
        <source>no</source>
        <translation>không</translation>
    </message>
</context>
<context>
    <name>VaccinationWorkspace</name>
    <message>
        <source>Vaccination</source>
        <translation>Tiêm chủng</translation>
    </message>
    <message>
        <source>Lot in use (F8)</source>
        <translation>Lô đang dùng (F8)</translation>
    </message>
    <message>
        <source>Choose (F10)</source>
        <translation>Chọn (F10)</translation>
    </message>
    <message>
        <source>Injection site (F10)</source>
        <translation>Vị trí tiêm (F10)</translation>
    </message>
    <message>
        <source>Choose a person from the queue</source>
        <translation>Chọn một người trong hàng chờ</translation>
    </message>
    <message>
        <source>Record dose (Enter)</source>
        <translation>Ghi mũi tiêm (Enter)</translation>
    </message>
    <message>
        <source>Void selected dose… (Ctrl+Del)</source>
        <translation>Vô hiệu mũi đã chọn… (Ctrl+Del)</translation>
    </message>
    <message>
        <source>Dose history</source>
        <translation>Lịch sử tiêm</translation>
    </message>
    <message>
        <source>F8</source>
        <translation>F8</translation>
    </message>
    <message>
        <source>Choose the lot in use for this session</source>
        <translation>Chọn lô dùng trong buổi tiêm</translation>
    </message>
    <message>
        <source>F10</source>
        <translation>F10</translation>
    </message>
    <message>
        <source>Choose the injection site for this session</source>
        <translation>Chọn vị trí tiêm cho phiên làm việc</translation>
    </message>
    <message>
        <source>↑ ↓</source>
        <translation>↑ ↓</translation>
    </message>
    <message>
        <source>Choose the person</source>
        <translation>Chọn người</translation>
    </message>
    <message>
        <source>Enter</source>
        <translation>Enter</translation>
    </message>
    <message>
        <source>Record the suggested dose with the session lot</source>
        <translation>Ghi mũi gợi ý với lô đang dùng</translation>
    </message>
    <message>
        <source>Space, Enter</source>
        <translation>Dấu cách, Enter</translation>
    </message>
    <message>
        <source>In a warning: tick, then record anyway</source>
        <translation>Khi có cảnh báo: đánh dấu, rồi vẫn ghi</translation>
    </message>
    <message>
        <source>Ctrl+Del</source>
        <translation>Ctrl+Del</translation>
    </message>
    <message>
        <source>Void the selected dose (reason required)</source>
        <translation>Vô hiệu mũi đã chọn (bắt buộc ghi lý do)</translation>
    </message>
    <message>
        <source>{vaccine} · lot {lot} · expires {expiry} · {left} left</source>
        <translation>{vaccine} · lô {lot} · HSD {expiry} · còn {left}</translation>
    </message>
    <message>
        <source>Choose the lot (F8)</source>
        <translation>Chọn lô (F8)</translation>
    </message>
    <message numerus="yes">
        <source>Cleared, waiting: %n</source>
        <translation>
            <numerusform>Đủ điều kiện, chờ tiêm: %n</numerusform>
        </translation>
    </message>
    <message>
        <source>No further dose is due.</source>
        <translation>Không cần tiêm thêm mũi nào.</translation>
    </message>
    <message>
        <source>Suggested: dose {n}, {kind} — {vaccines}</source>
        <translation>Gợi ý: mũi {n}, {kind} — {vaccines}</translation>
    </message>
    <message>
        <source>from {day}</source>
        <translation>từ {day}</translation>
    </message>
    <message>
        <source>recommended from {day}</source>
        <translation>khuyến cáo từ {day}</translation>
    </message>
    <message>
        <source>intervals of {profile}</source>
        <translation>khoảng cách theo {profile}</translation>
    </message>
    <message>
        <source>The lot in use ({vaccine}) is not a suggested vaccine.</source>
        <translation>Lô đang dùng ({vaccine}) không phải vắc xin được gợi ý.</translation>
    </message>
    <message>
        <source>Already vaccinated today: {vaccine} at {time}.</source>
        <translation>Đã tiêm hôm nay: {vaccine} lúc {time}.</translation>
    </message>
    <message>
        <source>Choose the lot in use first (F8).</source>
        <translation>Chọn lô đang dùng trước (F8).</translation>
    </message>
    <message>
        <source>Choose the injection site first (F10).</source>
        <translation>Chọn vị trí tiêm trước (F10).</translation>
    </message>
    <message>
        <source>Recorded: dose {n} {vaccine}, lot {lot}, at {time}. Observe until {until}.</source>
        <translation>Đã ghi: mũi {n} {vaccine}, lô {lot}, lúc {time}. Theo dõi đến {until}.</translation>
    </message>
    <message>
        <source>Supervisor override: {reason}</source>
        <translation>Giám sát cho phép: {reason}</translation>
    </message>
    <message>
        <source>Dose recorded</source>
        <translation>Đã ghi mũi tiêm</translation>
    </message>
    <message>
        <source>Select a dose in the history first.</source>
        <translation>Chọn một mũi trong lịch sử trước.</translation>
    </message>
    <message>
        <source>Void this dose</source>
        <translation>Vô hiệu mũi tiêm này</translation>
    </message>
    <message>
        <source>The dose stays in the record, marked void, with your reason. Why is it void?</source>
        <translation>Mũi tiêm vẫn được lưu, đánh dấu vô hiệu, kèm lý do. Vì sao vô hiệu?</translation>
    </message>
    <message>
        <source>Void the dose</source>
        <translation>Vô hiệu mũi tiêm</translation>
    </message>
    <message>
        <source>Keep the dose (Esc)</source>
        <translation>Giữ mũi tiêm (Esc)</translation>
    </message>
    <message>
        <source>The dose was voided.</source>
        <translation>Đã vô hiệu mũi tiêm.</translation>
    </message>
</context>
<context>
    <name>WatchModel</name>
    <message>
        <source>No.</source>
        <translation>STT</translation>
    </message>
    <message>
        <source>Full name</source>
        <translation>Họ và tên</translation>
    </message>
    <message>
        <source>Dose</source>
        <translation>Mũi</translation>
    </message>
    <message>
        <source>Given</source>
        <translation>Giờ tiêm</translation>
    </message>
    <message>
        <source>Time left</source>
        <translation>Còn lại</translation>
    </message>
    <message>
        <source>may leave</source>
        <translation>có thể về</translation>
    </message>
</context>
</TS>
